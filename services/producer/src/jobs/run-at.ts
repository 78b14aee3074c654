import { AppError } from '@conveyor/platform';

/** What a submission may say about when to run: a time, or a delay from now (not both). */
export interface RunAtFields {
  runAt?: string | undefined;
  delayMs?: number | undefined;
}

/** Where the fields sit in the request, for the paths a 400 names: `body.` on JSON, none on a form. */
export type RunAtPathPrefix = 'body.' | '';

/**
 * When a submitted job is due: undefined to run now (neither field), else the time, `delayMs`
 * counted from `now`. A time already past is returned as it is and runs now (the insert decides
 * against the database's clock). Both fields, or a time beyond `maxDelayMs` from now, is a 400
 * naming the field: a job due in ten years is far more likely a unit mistake than a plan.
 */
export function runAtOf(
  fields: RunAtFields,
  now: Date,
  maxDelayMs: number,
  prefix: RunAtPathPrefix = 'body.',
): Date | undefined {
  const { runAt, delayMs } = fields;
  if (runAt !== undefined && delayMs !== undefined) {
    throw refused(
      'run_at_conflict',
      `${prefix}delayMs`,
      'give either runAt (a time) or delayMs (a delay from now), not both',
    );
  }
  if (delayMs !== undefined) {
    if (delayMs > maxDelayMs)
      throw refused(
        'delay_too_long',
        `${prefix}delayMs`,
        `must be at most ${maxDelayMs} ms (${describe(maxDelayMs)})`,
      );
    return new Date(now.getTime() + delayMs);
  }
  if (runAt === undefined) return undefined;
  const at = new Date(runAt);
  if (Number.isNaN(at.getTime()))
    throw refused('invalid_run_at', `${prefix}runAt`, 'must be an RFC 3339 time with an offset');
  if (at.getTime() - now.getTime() > maxDelayMs)
    throw refused('delay_too_long', `${prefix}runAt`, `must be at most ${describe(maxDelayMs)} from now`);
  return at;
}

function refused(code: string, path: string, message: string): AppError {
  return new AppError(code, `${path} ${message}`, { status: 400, details: [{ path, message }] });
}

function describe(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 1 ? `${Math.floor(days)} days` : `${Math.round(ms / 1000)} s`;
}
