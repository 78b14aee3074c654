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
