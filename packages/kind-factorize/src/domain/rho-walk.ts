/**
 * The state of one walk: x (the start of the current cycle segment), y, and the product of the
 * x − y. Driven by pollard-brent.ts, implemented by the word-sized and the multi-limb walks; it
 * lives apart so that neither walk imports the search that imports them.
 */
export interface RhoWalk {
  /** x ← y. */
  closeCycle(): void;
  /** `steps` steps of y. */
  advance(steps: number): void;
  /** `steps` steps of y, multiplying each x − y into the product. */
  accumulate(steps: number): void;
  saveBatchStart(): void;
  /** y ← the value saved by saveBatchStart. */
  restoreBatchStart(): void;
  productGcd(): bigint;
  /** gcd(x − y, n). */
  differenceGcd(): bigint;
}
