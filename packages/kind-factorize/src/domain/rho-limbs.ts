/**
 * The rho walk for moduli of any size up to MAX_MONTGOMERY_BITS, on the float64 limbs of
 * montgomery.ts. The loops are single generated functions (see montgomery-kernels.ts): the whole
 * state lives in local variables, which halves the cost of a step compared with calling one kernel
 * per operation.
 */
import { gcd } from './bigint-math.js';
import {
  compileKernel,
  declare,
  emitAdd,
  emitLoad,
  emitMul,
  emitSqr,
  emitStore,
  emitSub,
  limbNames,
} from './montgomery-kernels.js';
import { MontgomeryDomain, type Residue } from './montgomery.js';
import type { RhoWalk } from './rho-walk.js';

type AdvanceKernel = (
  y: Residue,
  increment: Residue,
  n: Float64Array,
  negativeInverse: number,
  steps: number,
) => void;
type AccumulateKernel = (
  x: Residue,
  y: Residue,
  product: Residue,
  increment: Residue,
  n: Float64Array,
  twiceModulus: Float64Array,
  negativeInverse: number,
  steps: number,
) => void;

interface RhoKernels {
  /** `steps` steps of y. */
  advance: AdvanceKernel;
  /** `steps` steps of y, multiplying every x − y into `product`. */
  accumulate: AccumulateKernel;
}

const rhoKernelsByLimbCount = new Map<number, RhoKernels>();

function rhoKernels(limbs: number): RhoKernels {
  let kernels = rhoKernelsByLimbCount.get(limbs);
  if (kernels === undefined) {
    const [x, y, c, n, twiceN, product, shifted, difference] = [
      'x',
      'y',
      'c',
      'n',
      'twiceModulus',
      'p',
      's',
      'd',
    ].map((name) => limbNames(name, limbs)) as [
      string[],
      string[],
      string[],
      string[],
      string[],
      string[],
      string[],
      string[],
    ];
    const step = [...emitAdd(y, c, shifted), ...emitSqr(shifted, n, y)];
    const common = [
      ...emitLoad(y, 'y', 'let'),
      ...emitLoad(c, 'increment', 'const'),
      ...emitLoad(n, 'n', 'const'),
      declare(shifted),
    ];
    kernels = {
      advance: compileKernel<AdvanceKernel>(
        ['y', 'increment', 'n', 'negativeInverse', 'steps'],
        [...common, 'for (let i = 0; i < steps; i++) {', ...step, '}', ...emitStore(y, 'y')],
      ),
      accumulate: compileKernel<AccumulateKernel>(
        ['x', 'y', 'product', 'increment', 'n', 'twiceModulus', 'negativeInverse', 'steps'],
        [
          ...common,
          ...emitLoad(x, 'x', 'const'),
          ...emitLoad(twiceN, 'twiceModulus', 'const'),
          ...emitLoad(product, 'product', 'let'),
          declare(difference),
          'for (let i = 0; i < steps; i++) {',
          ...step,
          ...emitSub(x, y, twiceN, difference),
          ...emitMul(product, difference, n, product),
          '}',
          ...emitStore(y, 'y'),
          ...emitStore(product, 'product'),
        ],
      ),
    };
    rhoKernelsByLimbCount.set(limbs, kernels);
  }
  return kernels;
}

/**
 * The iteration in Montgomery form. It is written as y ↦ (y + c)², which is x ↦ x² + c in the
 * variable x = y + c, so that y stays a product (below 2n) and x − y + 2n stays a valid input.
 */
export class LimbRhoWalk implements RhoWalk {
  private readonly domain: MontgomeryDomain;
  private readonly kernels: RhoKernels;
  private readonly increment: Residue;
  private readonly x: Residue;
  private readonly y: Residue;
  private readonly saved: Residue;
  private readonly product: Residue;
  private readonly difference: Residue;

  constructor(n: bigint, increment: bigint, start: bigint) {
    const domain = new MontgomeryDomain(n);
    this.domain = domain;
    this.kernels = rhoKernels(domain.limbCount);
    this.increment = domain.fromBigInt(increment);
    this.x = domain.create();
    this.y = domain.fromBigInt(start);
    this.saved = domain.create();
    this.product = domain.copyOf(domain.one);
    this.difference = domain.create();
  }

  closeCycle(): void {
    this.x.set(this.y);
  }

  advance(steps: number): void {
    const { domain } = this;
    this.kernels.advance(this.y, this.increment, domain.modulusLimbs, domain.negativeInverse, steps);
  }

  saveBatchStart(): void {
    this.saved.set(this.y);
  }

  restoreBatchStart(): void {
    this.y.set(this.saved);
  }

  accumulate(steps: number): void {
    const { domain } = this;
    this.kernels.accumulate(
      this.x,
      this.y,
      this.product,
      this.increment,
      domain.modulusLimbs,
      domain.twiceModulusLimbs,
      domain.negativeInverse,
      steps,
    );
  }

  productGcd(): bigint {
    return gcd(this.domain.rawValue(this.product), this.domain.modulus);
  }

  differenceGcd(): bigint {
    this.domain.sub(this.x, this.y, this.difference);
    return gcd(this.domain.rawValue(this.difference), this.domain.modulus);
  }
}
