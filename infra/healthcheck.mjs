// Container health check: `node healthcheck.mjs <url> [--any-status]` exits 0 when <url> answers
// 2xx (or anything, with --any-status) within 2 s, 1 otherwise. Node's fetch, so the slim image
// needs no curl.
/* global fetch, AbortSignal */
import process from 'node:process';

const [url, option] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node healthcheck.mjs <url> [--any-status]\n');
  process.exit(2);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  process.exit(response.ok || option === '--any-status' ? 0 : 1);
} catch (error) {
  process.stderr.write(`${url}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
