import { Cron } from 'croner';
import type { ScheduleCatchUp } from '@conveyor/contracts';

/**
 * A cron expression read in a time zone: the instants it names. croner (no dependencies, Node ≥
 * 18, maintained) does the calendar work, DST included: a time that falls in a spring-forward gap
 * runs at the first valid time after it for a fixed-time cron (`30 2 * * *`) and is skipped by
 * an interval cron (`*\/30 * * * *`); a time that occurs twice in a fall-back runs once for a
 * fixed-time cron and on both occurrences for an interval cron (croner's `fixedTimeRule`, the
 * same as croner-rust and close to Vixie cron). Instants are whole seconds.
 */
export interface CronTicks {
  /** The first tick strictly after `after`, or null when the cron has no more. */
  after(after: Date): Date | null;
  /** The newest tick strictly before `before`, or null. */
  before(before: Date): Date | null;
}

export type CronParse =
  { ok: true; ticks: CronTicks } | { ok: false; field: 'cron' | 'timezone'; message: string };

/** Reads a cron (5 fields, or 6 with seconds first) in an IANA time zone; says which is wrong otherwise. */
export function parseCron(cron: string, timezone: string): CronParse {
  if (!isTimeZone(timezone))
    return {
      ok: false,
      field: 'timezone',
      message: `"${timezone}" is not an IANA time zone name (e.g. Europe/Berlin)`,
    };
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true, mode: '5-or-6-parts' });
  } catch (error) {
    return { ok: false, field: 'cron', message: error instanceof Error ? error.message : String(error) };
  }
  return {
    ok: true,
    ticks: {
      after: (after) => job.nextRun(after),
      // previousRuns includes a run earlier in the same second as its reference; never the reference itself.
      before: (before) => job.previousRuns(1, before).find((tick) => tick < before) ?? null,
    },
  };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The first tick at or after `from`. */
export function tickAtOrAfter(ticks: CronTicks, from: Date): Date | null {
  return ticks.after(new Date(from.getTime() - 1));
}

/** The next `count` ticks after `from`. */
export function nextTicks(ticks: CronTicks, from: Date, count: number): Date[] {
  const out: Date[] = [];
  let at: Date | null = from;
  while (out.length < count && (at = ticks.after(at)) !== null) out.push(at);
  return out;
}

export interface TickPlanInput {
  /** The schedule's first tick not yet acted on. */
  due: Date;
  now: Date;
  catchUp: ScheduleCatchUp;
  /**
   * A tick found at most this late is on time and fires under either policy; an older one was
   * missed (the scheduler was down or stalled) and fires only with `catchUp: latest`.
   */
  graceMs: number;
  /** Most on-time ticks fired at once (the newest are kept); bounds a pass after a stall. */
  maxTicks: number;
}

export interface TickPlan {
  /** Ticks to create a job for, oldest first. */
  fire: Date[];
  /** Ticks passed over: missed ones not caught up (their count), beyond maxTicks included. */
  skipped: number;
  /** The next tick to act on, strictly after `now`; null when the cron has none. */
  next: Date | null;
}

/**
 * What a scheduler does with a schedule whose `due` tick has come: every tick from `due` to
 * `now` that is still on time fires; of those missed (older than `graceMs`), only the newest
 * fires, and only with `catchUp: latest`. Pure: the same answer on every replica.
 */
export function planTicks(ticks: CronTicks, input: TickPlanInput): TickPlan {
  const { due, now, catchUp, graceMs, maxTicks } = input;
  const onTimeFrom = new Date(Math.max(due.getTime(), now.getTime() - graceMs));
  const onTime: Date[] = [];
  for (let at = tickAtOrAfter(ticks, onTimeFrom); at !== null && at <= now; at = ticks.after(at))
    onTime.push(at);
  const fire = onTime.slice(-maxTicks);
  let skipped = onTime.length - fire.length;
  const newestMissed = ticks.before(onTimeFrom);
  if (newestMissed !== null && newestMissed >= due) {
    const missed = countTicks(ticks, due, newestMissed);
    if (catchUp === 'latest' && fire.length < maxTicks) {
      fire.unshift(newestMissed);
      skipped += missed - 1;
    } else skipped += missed;
  }
  return { fire, skipped, next: ticks.after(now) };
}

/** Ticks in [from, to], counted up to a bound (a count for logs, not worth enumerating a year of seconds). */
function countTicks(ticks: CronTicks, from: Date, to: Date, bound = 10_000): number {
  let count = 0;
  for (let at = tickAtOrAfter(ticks, from); at !== null && at <= to && count < bound; at = ticks.after(at))
    count++;
  return count;
}
