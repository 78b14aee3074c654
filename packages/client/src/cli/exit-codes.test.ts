import { ConveyorError, ConveyorNetworkError } from '../http/errors.js';
import { ExitCode, exitCodeOfError, exitCodeOfStatus, UsageError } from './exit-codes.js';

const apiError = (status: number) => new ConveyorError({ code: 'x', message: 'x', status });

describe('exit codes', () => {
  it.each([
    [apiError(400), ExitCode.badInput],
    [apiError(409), ExitCode.badInput],
    [apiError(422), ExitCode.badInput],
    [apiError(401), ExitCode.authRefused],
    [apiError(403), ExitCode.authRefused],
    [apiError(404), ExitCode.notFound],
    [apiError(410), ExitCode.notFound],
    [apiError(503), ExitCode.serverError],
    [new ConveyorNetworkError('down', 'http://x'), ExitCode.networkError],
    [new UsageError('bad'), ExitCode.badInput],
    [new DOMException('stop', 'AbortError'), ExitCode.interrupted],
    [new Error('bug'), ExitCode.serverError],
  ])('%s → %i', (error, code) => {
    expect(exitCodeOfError(error)).toBe(code);
  });

  it('says how a job ended', () => {
    expect(exitCodeOfStatus('succeeded')).toBe(ExitCode.ok);
    expect(exitCodeOfStatus('failed')).toBe(ExitCode.jobFailed);
    expect(exitCodeOfStatus('cancelled')).toBe(ExitCode.jobCancelled);
  });
});
