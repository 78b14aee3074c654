import { ConveyorError, ConveyorNetworkError } from '../http/errors.js';
import type { JobStatus } from '@conveyor/contracts';

/** What the process's exit status says happened; listed in `conveyor --help` and the README. */
export const ExitCode = {
  ok: 0,
  jobFailed: 1,
  badInput: 2,
  jobCancelled: 3,
  notFound: 4,
  authRefused: 5,
  serverError: 6,
  networkError: 7,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0    done (a waited-for job succeeded)
  1    the job failed
  2    bad usage or input (the API answered 400, 409, 413, 415 or 422)
  3    the job was cancelled
  4    not found (404, or 410 for an expired result)
  5    authentication refused (401: no or bad API key; 403: an operator key is needed)
  6    server error (5xx or an answer the CLI cannot read)
  7    the API could not be reached
  130  interrupted (Ctrl-C) while waiting`;

/** A mistake on the command line, found before anything was sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeOfStatus(status: JobStatus): ExitCode {
  switch (status) {
    case 'succeeded':
    case 'scheduled':
    case 'queued':
    case 'running':
      return ExitCode.ok;
    case 'failed':
      return ExitCode.jobFailed;
    case 'cancelled':
      return ExitCode.jobCancelled;
  }
}

export function exitCodeOfError(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.badInput;
  if (error instanceof ConveyorNetworkError) return ExitCode.networkError;
  if (error instanceof DOMException && error.name === 'AbortError') return ExitCode.interrupted;
  if (!(error instanceof ConveyorError)) return ExitCode.serverError;
  if (error.status === 401 || error.status === 403) return ExitCode.authRefused;
  if (error.status === 404 || error.status === 410) return ExitCode.notFound;
  if (error.status >= 400 && error.status < 500) return ExitCode.badInput;
  return ExitCode.serverError;
}
