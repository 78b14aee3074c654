/**
 * A small seeded PRNG (splitmix32): factorization picks random curves and rho constants, and seeding
 * makes results and timings reproducible.
 */
export type Random = () => number;

/** Returns a generator of uniformly distributed 32-bit unsigned integers. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
