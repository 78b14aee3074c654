import { logFormat } from './logger.js';

// winston keeps the finished line under this symbol (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

function written(kind: 'json' | 'pretty', meta: Record<string, unknown>): string {
  const info = logFormat(kind).transform({ level: 'error', message: 'request failed', ...meta });
  if (typeof info !== 'object') throw new Error('the format dropped the line');
  const line: unknown = Reflect.get(info, MESSAGE);
  if (typeof line !== 'string') throw new Error('the format wrote no line');
  return line;
}

describe('errors logged as metadata', () => {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const error = new Error('database unreachable', { cause });

  it('print their name, message, code, stack and cause as JSON', () => {
    const line = JSON.parse(written('json', { error }));
    expect(line.error).toMatchObject({
      name: 'Error',
      message: 'database unreachable',
      cause: { message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
    });
    expect(line.error.stack).toContain('logger.test.ts');
    expect(line.error.cause.stack).toContain('Error: connect ECONNREFUSED');
  });

  it('print their message and stack in the readable format too', () => {
    const line = written('pretty', { error });
    expect(line).toContain('database unreachable');
    expect(line).toContain('ECONNREFUSED');
    expect(line).toContain('logger.test.ts');
  });

  it('keep the errors of an AggregateError', () => {
    const line = JSON.parse(
      written('json', {
        error: new AggregateError([cause, new Error('second address')], 'all addresses failed'),
      }),
    );
    expect(line.error.errors.map((e: { message: string }) => e.message)).toEqual([
      'connect ECONNREFUSED 127.0.0.1:5432',
      'second address',
    ]);
  });

  it('still redact secrets next to them', () => {
    const line = JSON.parse(written('json', { error, password: 'hunter2', url: 'postgres://u:p@db/x' }));
    expect(line.password).toBe('[redacted]');
    expect(line.url).toBe('postgres://[redacted]@db/x');
  });
});
