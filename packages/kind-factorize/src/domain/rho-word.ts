/**
 * The rho walk for moduli below 2^64, in WebAssembly.
 *
 * Why WebAssembly here: for a 64-bit n the whole factorization takes a few milliseconds, about what
 * V8 needs to warm up and optimise the float64 kernels of montgomery-kernels.ts. WebAssembly is
 * compiled before the first call and has native 64-bit integers: one Montgomery multiplication is
 * a handful of i64 multiplications (32-bit halves, since WebAssembly has no 64×64→128 product).
 *
 * Values are in Montgomery form with R = 2^64 and fully reduced to [0, n) after every operation
 * (n may use all 64 bits, so there is no headroom for lazy reduction).
 */
import { mod, modInverse } from './bigint-math.js';
import type { RhoWalk } from './rho-walk.js';
import { EMPTY_BLOCK, encodeModule, I32, I64, Op, signedLeb128 } from './wasm-encoding.js';

/** The part of the WebAssembly JS API used here (the project's TypeScript libs have no DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export const WORD_MODULUS_LIMIT = 1n << 64n;
const R = 1n << 64n;

// Parameters shared by both functions, then the steps count, then temporaries.
const N = 0;
const NEGATIVE_INVERSE = 1;
const INCREMENT = 2;
const Y = 3;
const X = 4;
const PRODUCT = 5;

interface Locals {
  steps: number;
  /** 15 i64 temporaries, from this index on. */
  firstTemporary: number;
}

// The instruction lists read best grouped by operation, as written.
// prettier-ignore
function generateBody(locals: Locals, accumulate: boolean): number[] {
  let next = locals.firstTemporary;
  const t = () => next++;
  const [x0, x1, y0, y1, p00, p01, p10, mid, th, tl, m, uh, ul, s, d] = Array.from({ length: 15 }, t) as number[] as [
    number, number, number, number, number, number, number, number, number, number, number, number, number, number, number,
  ];
  const get = (i: number) => [Op.localGet, i];
  const set = (i: number) => [Op.localSet, i];
  const constant = (v: bigint) => [Op.i64Const, ...signedLeb128(v)];
  const low32 = (i: number) => [...get(i), ...constant(0xffffffffn), Op.i64And];
  const high32 = (i: number) => [...get(i), ...constant(32n), Op.i64ShrU];

  /** (hi, lo) = a·b, from four 32×32-bit products. */
  const mul128 = (a: number, b: number, hi: number, lo: number) => [
    ...low32(a), ...set(x0), ...high32(a), ...set(x1), ...low32(b), ...set(y0), ...high32(b), ...set(y1),
    ...get(x0), ...get(y0), Op.i64Mul, ...set(p00),
    ...get(x0), ...get(y1), Op.i64Mul, ...set(p01),
    ...get(x1), ...get(y0), Op.i64Mul, ...set(p10),
    ...high32(p00), ...low32(p01), Op.i64Add, ...low32(p10), Op.i64Add, ...set(mid), // < 3·2^32
    ...get(mid), ...constant(32n), Op.i64Shl, ...low32(p00), Op.i64Or, ...set(lo),
    ...get(x1), ...get(y1), Op.i64Mul, ...high32(p01), Op.i64Add, ...high32(p10), Op.i64Add, ...high32(mid), Op.i64Add, ...set(hi),
  ];
  /** out = sum − n when the sum overflowed 64 bits (the i32 on the stack) or is ≥ n, else sum. */
  const reduceOnce = (sum: number, overflowed: number[], out: number) => [
    ...get(sum), ...get(N), Op.i64Sub, ...get(sum),
    ...overflowed, ...get(sum), ...get(N), Op.i64GeU, Op.i32Or,
    Op.select, ...set(out),
  ];
  /** out = a·b/R mod n: t = a·b, m = −t/n mod R, (t + m·n)/R < 2n. */
  const mulRedc = (a: number, b: number, out: number) => [
    ...mul128(a, b, th, tl),
    ...get(tl), ...get(NEGATIVE_INVERSE), Op.i64Mul, ...set(m),
    ...mul128(m, N, uh, ul),
    // The low words sum to 0 mod R, with a carry unless both are 0.
    ...get(th), ...get(uh), Op.i64Add, ...get(tl), ...constant(0n), Op.i64Ne, Op.i64ExtendI32U, Op.i64Add, ...set(s),
    ...reduceOnce(s, [...get(s), ...get(th), Op.i64LtU], out),
  ];
  const step = [
    ...mulRedc(Y, Y, Y),
    ...get(Y), ...get(INCREMENT), Op.i64Add, ...set(s),
    ...reduceOnce(s, [...get(s), ...get(Y), Op.i64LtU], Y),
  ];
  const accumulateDifference = [
    // d = x − y mod n
    ...get(X), ...get(Y), Op.i64Sub, ...get(N), Op.i64Add, ...get(X), ...get(Y), Op.i64Sub, ...get(X), ...get(Y), Op.i64LtU, Op.select, ...set(d),
    ...mulRedc(PRODUCT, d, PRODUCT),
  ];
  const loopBody = accumulate ? [...step, ...accumulateDifference] : step;
  return [
    Op.block, EMPTY_BLOCK, Op.loop, EMPTY_BLOCK,
    ...get(locals.steps), Op.i32Eqz, Op.brIf, 1,
    ...loopBody,
    ...get(locals.steps), Op.i32Const, 1, Op.i32Sub, ...set(locals.steps),
    Op.br, 0,
    Op.end, Op.end,
    ...(accumulate ? [...get(PRODUCT), Op.globalSet, 0] : []),
    ...get(Y),
  ];
}

/** Binary gcd of two u64 (Stein): gcd(0, b) = b. */
// prettier-ignore
function gcdBody(): number[] {
  const [a, b, shift, previousA] = [0, 1, 2, 3];
  const get = (i: number) => [Op.localGet, i];
  const set = (i: number) => [Op.localSet, i];
  const returnOtherIfZero = (zero: number, other: number) => [...get(zero), Op.i64Eqz, Op.if, EMPTY_BLOCK, ...get(other), Op.return, Op.end];
  const stripTwos = (i: number) => [...get(i), ...get(i), Op.i64Ctz, Op.i64ShrU, ...set(i)];
  return [
    ...returnOtherIfZero(a, b),
    ...returnOtherIfZero(b, a),
    ...get(a), ...get(b), Op.i64Or, Op.i64Ctz, ...set(shift),
    ...stripTwos(a),
    Op.loop, EMPTY_BLOCK,
    ...stripTwos(b),
    // (a, b) = (min, max), then b −= a: both odd, so b becomes even or 0.
    ...get(a), ...set(previousA),
    ...get(b), ...get(a), ...get(a), ...get(b), Op.i64GtU, Op.select, ...set(a),
    ...get(previousA), ...get(b), ...get(previousA), ...get(b), Op.i64GtU, Op.select, ...set(b),
    ...get(b), ...get(a), Op.i64Sub, ...set(b),
    ...get(b), Op.i64Eqz, Op.i32Eqz, Op.brIf, 0,
    Op.end,
    ...get(a), ...get(shift), Op.i64Shl,
  ];
}

interface RhoWordExports {
  /** advance(n, −n⁻¹ mod R, c, y, steps) → y after `steps` steps of y ↦ y² + c. */
  advance: (n: bigint, negativeInverse: bigint, increment: bigint, y: bigint, steps: number) => bigint;
  /** accumulate(n, −n⁻¹, c, y, x, product, steps) → y; the product, times every x − y, goes to `product`. */
  accumulate: (
    n: bigint,
    negativeInverse: bigint,
    increment: bigint,
    y: bigint,
    x: bigint,
    product: bigint,
    steps: number,
  ) => bigint;
  product: { value: unknown };
  gcd: (a: bigint, b: bigint) => bigint;
}

let instance: RhoWordExports | undefined;

function rhoWordExports(): RhoWordExports {
  if (instance === undefined) {
    const module = new webAssembly.Module(
      encodeModule(
        [
          {
            name: 'advance',
            params: [I64, I64, I64, I64, I32],
            results: [I64],
            locals: Array<number>(15).fill(I64),
            body: generateBody({ steps: 4, firstTemporary: 5 }, false),
          },
          {
            name: 'accumulate',
            params: [I64, I64, I64, I64, I64, I64, I32],
            results: [I64],
            locals: Array<number>(15).fill(I64),
            body: generateBody({ steps: 6, firstTemporary: 7 }, true),
          },
          { name: 'gcd', params: [I64, I64], results: [I64], locals: [I64, I64], body: gcdBody() },
        ],
        ['product'],
      ),
    );
    instance = new webAssembly.Instance(module).exports as RhoWordExports;
  }
  return instance;
}

/** The rho walk y ↦ y² + c modulo an odd n < 2^64, with y, x and the product in Montgomery form. */
export class WordRhoWalk implements RhoWalk {
  private readonly wasm = rhoWordExports();
  private readonly negativeInverse: bigint;
  private readonly increment: bigint;
  private x = 0n;
  private y: bigint;
  private saved = 0n;
  private product: bigint;

  constructor(
    private readonly n: bigint,
    increment: bigint,
    start: bigint,
  ) {
    this.negativeInverse = R - modInverse(n, R)!;
    this.increment = mod(increment * R, n);
    this.y = mod(start * R, n);
    this.product = R % n;
  }

  closeCycle(): void {
    this.x = this.y;
  }

  advance(steps: number): void {
    this.y = BigInt.asUintN(
      64,
      this.wasm.advance(this.n, this.negativeInverse, this.increment, this.y, steps),
    );
  }

  saveBatchStart(): void {
    this.saved = this.y;
  }

  restoreBatchStart(): void {
    this.y = this.saved;
  }

  accumulate(steps: number): void {
    const { n, negativeInverse, increment, y, x, product } = this;
    this.y = BigInt.asUintN(64, this.wasm.accumulate(n, negativeInverse, increment, y, x, product, steps));
    this.product = BigInt.asUintN(64, this.wasm.product.value as bigint);
  }

  productGcd(): bigint {
    return this.gcdWithModulus(this.product);
  }

  differenceGcd(): bigint {
    return this.gcdWithModulus(mod(this.x - this.y, this.n));
  }

  /** gcd(a, n) for a in [0, n), in WebAssembly: a BigInt gcd would cost more than a batch of steps. */
  private gcdWithModulus(a: bigint): bigint {
    return BigInt.asUintN(64, this.wasm.gcd(a, this.n));
  }
}
