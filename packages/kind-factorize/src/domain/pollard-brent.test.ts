import { pollardBrent } from './pollard-brent.js';
import { WorkMonitor } from './work-monitor.js';

const monitor = new WorkMonitor({}, 128);
const search = (maxSteps: number, increment = 1n) => ({ increment, maxSteps, monitor });

describe('pollardBrent', () => {
  it.each([
    ['below 2^64 (WebAssembly walk)', 4294967291n, 4294967279n],
    ['below 2^64, unbalanced', 1000003n, 4294967291n],
    ['above 2^64 (float64 limb walk)', 1000003n, 2n ** 61n - 1n],
    ['above 2^64, 40-bit factor', 1099511627791n, 2n ** 89n - 1n],
  ])('finds a factor %s', (_name, p, q) => {
    const n = p * q;
    const factor = pollardBrent(n, search(1 << 22));
    expect([p, q]).toContain(factor);
  });

  it('gives up when the step budget runs out', () => {
    expect(pollardBrent(1000000000039n * (2n ** 89n - 1n), search(1000))).toBeUndefined();
  });
});
