import type { ThroughputBucket } from '@conveyor/contracts';

/** One minute's figures as the query returns them: only minutes with something in them. */
export interface MinuteFigures {
  minute: Date;
  submitted?: number;
  succeeded?: number;
  failed?: number;
  queueWaitMs?: { p50: number; p95: number };
  runMs?: { p50: number; p95: number };
}

const MINUTE_MS = 60_000;

/**
 * Every minute from `from` (a whole minute) for `minutes` minutes, oldest first, with zeros and
 * nulls where nothing happened; figures of other minutes are ignored.
 */
export function fillBuckets(
  from: Date,
  minutes: number,
  figures: readonly MinuteFigures[],
): ThroughputBucket[] {
  const byMinute = new Map<number, MinuteFigures[]>();
  for (const figure of figures) {
    const key = figure.minute.getTime();
    byMinute.set(key, [...(byMinute.get(key) ?? []), figure]);
  }
  return Array.from({ length: minutes }, (_, index) => {
    const minute = from.getTime() + index * MINUTE_MS;
    const found = byMinute.get(minute) ?? [];
    const sum = (pick: (figure: MinuteFigures) => number | undefined) =>
      found.reduce((total, figure) => total + (pick(figure) ?? 0), 0);
    return {
      minute: new Date(minute).toISOString(),
      submitted: sum((figure) => figure.submitted),
      succeeded: sum((figure) => figure.succeeded),
      failed: sum((figure) => figure.failed),
      queueWaitMs: found.find((figure) => figure.queueWaitMs)?.queueWaitMs ?? null,
      runMs: found.find((figure) => figure.runMs)?.runMs ?? null,
    };
  });
}
