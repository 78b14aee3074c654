// Reading the services' Prometheus /metrics.
import { opsAgent, request } from './http.mjs';

/** The /metrics text of the service on `port`; throws when it does not answer 200 within `timeoutMs`. */
export async function scrape(port, timeoutMs = 5_000) {
  const { status, body } = await request(opsAgent, port, 'GET', '/metrics', undefined, timeoutMs);
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  return body;
}

/** Like scrape(), but '' when the service does not answer: every metricSum() of it is then 0. */
export function scrapeOrEmpty(port, timeoutMs = 5_000) {
  return scrape(port, timeoutMs).catch(() => '');
}

/** Sums the samples of a Prometheus metric whose labels contain `labelFilter` (all label sets if none). */
export function metricSum(text, name, labelFilter = '') {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
