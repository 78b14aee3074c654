/** How long ago a timestamp was, in the largest unit that fits: `4 s`, `12 min`, `3 h`, `2 d`. */
export function ago(timestamp: string | null, now = Date.now()): string {
  if (timestamp === null) return '—';
  return `${duration(now - Date.parse(timestamp))} ago`;
}

function duration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 1) return `${Math.round(ms)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

export function dateTime(timestamp: string | null): string {
  return timestamp === null ? '—' : new Date(timestamp).toLocaleString();
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString();
}

export function rate(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(value < 10 ? 1 : 0)}/s`;
}

/** JSON for people: indented, and a string shown as it is. */
export function pretty(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
