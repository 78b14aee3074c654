// Small statistics over the samples a bench run collects.

/** The nearest-rank percentile `p` (0–100) of an ascending array; NaN when it is empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * `after − before` for every number in `after`, nested objects included (e.g. per-table row
 * counters); a counter missing from `before` (a table created meanwhile) counts from 0.
 */
export function counterDelta(before, after) {
  const delta = {};
  for (const [key, now] of Object.entries(after)) {
    delta[key] = typeof now === 'number' ? now - (before?.[key] ?? 0) : counterDelta(before?.[key], now);
  }
  return delta;
}

/**
 * Completions per second over the middle 60 % of `finishes` (ascending epoch ms), free of the
 * ramp-up and the tail; NaN with 10 finishes or fewer.
 */
export function steadyRate(finishes) {
  if (finishes.length <= 10) return NaN;
  const at = (fraction) => finishes[Math.min(finishes.length - 1, Math.floor(fraction * finishes.length))];
  return (0.6 * finishes.length) / ((at(0.8) - at(0.2)) / 1000);
}
