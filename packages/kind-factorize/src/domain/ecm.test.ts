import { ECM_SCHEDULE, ecmCurve, ecmFindFactor } from './ecm.js';
import { BABY_STEPS, GIANT_STEP, Stage2Plan } from './ecm-stage2-plan.js';
import { MontgomeryDomain } from './montgomery.js';
import { seededRandom } from './prng.js';
import { primesBelow } from './small-primes.js';
import { WorkMonitor } from './work-monitor.js';

const monitor = new WorkMonitor({}, 128);
const p13 = 1000000000039n; // 13 digits
const m89 = 2n ** 89n - 1n; // prime

describe('ecmCurve', () => {
  it('needs stage 2 for some curves: σ = 7 finds the 13-digit factor only with B2 > B1', () => {
    // Found by trying σ = 6, 7, …: the group order of this curve modulo p13 has one prime factor
    // in (2000, 200000] and is otherwise 2000-smooth.
    const domain = new MontgomeryDomain(p13 * m89);
    expect(ecmCurve(domain, 7n, { b1: 2000, b2: 2000 }, monitor)).toBeUndefined();
    expect(ecmCurve(domain, 7n, { b1: 2000, b2: 200_000 }, monitor)).toBe(p13);
  });

  it('returns only proper factors', () => {
    const domain = new MontgomeryDomain(p13 * m89);
    for (let sigma = 6n; sigma < 30n; sigma++) {
      const factor = ecmCurve(domain, sigma, { b1: 2000, b2: 200_000 }, monitor);
      if (factor !== undefined) expect([p13, m89]).toContain(factor);
    }
  });
});

describe('ecmFindFactor', () => {
  it('finds a 13-digit factor of a 40-digit number', () => {
    expect(ecmFindFactor(p13 * m89, monitor, seededRandom(1))).toBe(p13);
  });

  it('follows a growing B1 schedule', () => {
    const b1s = ECM_SCHEDULE.map((level) => level.b1);
    expect(b1s).toEqual([...b1s].sort((a, b) => a - b));
    expect(b1s[0]).toBeGreaterThanOrEqual(GIANT_STEP / 2);
  });
});

describe('Stage2Plan', () => {
  it('has the 240 baby steps below D/2 coprime to D', () => {
    expect(BABY_STEPS).toHaveLength(240);
    expect(BABY_STEPS.every((j) => j < GIANT_STEP / 2 && [2, 3, 5, 7, 11].every((p) => j % p !== 0))).toBe(
      true,
    );
  });

  it('covers every prime in (B1, B2] with a visited pair k·D ± j', () => {
    const [b1, b2] = [2000, 400_000];
    const plan = new Stage2Plan(b1, b2);
    const covered = new Set<number>();
    for (let c = 0; c < plan.chunkCount; c++) {
      const { firstGiantStep, giantSteps, pairs } = plan.chunk(c);
      for (let i = 0; i < giantSteps; i++) {
        BABY_STEPS.forEach((j, b) => {
          if (pairs[i * BABY_STEPS.length + b] === 1) {
            covered.add((firstGiantStep + i) * GIANT_STEP - j);
            covered.add((firstGiantStep + i) * GIANT_STEP + j);
          }
        });
      }
    }
    const missing = Array.from(primesBelow(b2 + 1)).filter((q) => q > b1 && !covered.has(q));
    expect(missing).toEqual([]);
  });
});
