/**
 * Straight-line Montgomery kernels, generated once per limb count.
 *
 * Why generated code: rho and ECM spend nearly all their time in modular multiplications of 3 to 15
 * limbs. Written as loops over typed arrays they run about twice as slow as the same arithmetic
 * unrolled into local variables, which V8 keeps in registers. Hot loops can go further and fuse
 * several operations into one generated function (see rho-limbs.ts), which avoids the calls and
 * the array traffic between them. The generated source only ever interpolates variable names, limb
 * indices and the constants below, never input data.
 *
 * Representation (see montgomery.ts for the invariants): 24-bit limbs in float64, least
 * significant first. Every product of two limbs is below 2^48, so a column of up to 32 products is
 * summed exactly without carrying.
 *
 * The emitters below take the names of the variables holding each limb; the output variables must
 * already be declared, and may be the same as an input (every input is read before an output is
 * written). Reductions expect `negativeInverse` (−n⁻¹ mod 2^24) in scope, and all of them `floor`
 * and `imul` (see compileKernel).
 */

/** out = a·b/R mod n (lazily reduced, see MontgomeryDomain.mul). */
export type MulKernel = (
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  n: Float64Array,
  negativeInverse: number,
) => void;
/** out = a²/R mod n. */
export type SqrKernel = (
  a: Float64Array,
  out: Float64Array,
  n: Float64Array,
  negativeInverse: number,
) => void;
/** out = a + b: limb-wise, then carries normalised. */
export type AddKernel = (a: Float64Array, b: Float64Array, out: Float64Array) => void;
/** out = a − b + 2n, so that the result stays positive. */
export type SubKernel = (
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  twiceModulus: Float64Array,
) => void;

export interface MontgomeryKernels {
  mul: MulKernel;
  sqr: SqrKernel;
  add: AddKernel;
  sub: SubKernel;
}

export const LIMB_BITS = 24;
const BASE = `${2 ** LIMB_BITS}`;
const INVERSE = `${2 ** -LIMB_BITS}`;
const MASK = `${2 ** LIMB_BITS - 1}`;

const kernelsByLimbCount = new Map<number, MontgomeryKernels>();

export function montgomeryKernels(limbCount: number): MontgomeryKernels {
  let kernels = kernelsByLimbCount.get(limbCount);
  if (kernels === undefined) {
    kernels = compileBasicKernels(limbCount);
    kernelsByLimbCount.set(limbCount, kernels);
  }
  return kernels;
}

function compileBasicKernels(limbs: number): MontgomeryKernels {
  const [a, b, n, twiceN, out] = ['a', 'b', 'n', 'twiceModulus', 'out'].map((name) =>
    limbNames(name, limbs),
  ) as [string[], string[], string[], string[], string[]];
  const load = (names: string[], array: string): string[] => emitLoad(names, array, 'const');
  const kernel = <F>(parameters: string[], inputs: string[][], operation: string[]): F =>
    compileKernel<F>(parameters, [...inputs.flat(), declare(out), ...operation, ...emitStore(out, 'out')]);
  return {
    mul: kernel<MulKernel>(
      ['a', 'b', 'out', 'n', 'negativeInverse'],
      [load(a, 'a'), load(b, 'b'), load(n, 'n')],
      emitMul(a, b, n, out),
    ),
    sqr: kernel<SqrKernel>(
      ['a', 'out', 'n', 'negativeInverse'],
      [load(a, 'a'), load(n, 'n')],
      emitSqr(a, n, out),
    ),
    add: kernel<AddKernel>(['a', 'b', 'out'], [load(a, 'a'), load(b, 'b')], emitAdd(a, b, out)),
    sub: kernel<SubKernel>(
      ['a', 'b', 'out', 'twiceModulus'],
      [load(a, 'a'), load(b, 'b'), load(twiceN, 'twiceModulus')],
      emitSub(a, b, twiceN, out),
    ),
  };
}

/**
 * Compiles a kernel. Math.floor and Math.imul reach it as closure variables rather than through the
 * global `Math`: under a global object with interceptors (such as a vm context, where jest runs
 * tests) every global lookup is a slow call, which made the kernels about 50 times slower.
 */
export function compileKernel<F>(parameters: string[], body: string[]): F {
  const source = ['"use strict";', `return function kernel(${parameters.join(', ')}) {`, ...body, '};'].join(
    '\n',
  );
  return new Function('floor', 'imul', source)(Math.floor, Math.imul) as F;
}

/** ['x0', 'x1', …]: the variables holding the limbs of x. */
export function limbNames(prefix: string, limbs: number): string[] {
  return Array.from({ length: limbs }, (_, i) => `${prefix}${i}`);
}

/** `const x0 = x[0]; …` (or `let`). */
export function emitLoad(names: string[], array: string, keyword: 'const' | 'let'): string[] {
  return names.map((name, i) => `${keyword} ${name} = ${array}[${i}];`);
}

/** `x[0] = x0; …` */
export function emitStore(names: string[], array: string): string[] {
  return names.map((name, i) => `${array}[${i}] = ${name};`);
}

/** `let x0 = 0, x1 = 0, …;` */
export function declare(names: string[]): string {
  return `let ${names.map((name) => `${name} = 0`).join(', ')};`;
}

/** out = a·b/R mod n. */
export function emitMul(a: string[], b: string[], n: string[], out: string[]): string[] {
  const limbs = a.length;
  const columns = Array.from({ length: 2 * limbs }, (_, k) =>
    a.flatMap((ai, i) => (k - i >= 0 && k - i < limbs ? [`${ai} * ${b[k - i]!}`] : [])),
  );
  return ['{', ...declareColumns(columns), ...emitReduction(n, out), '}'];
}

/** out = a²/R mod n: each cross product a_i·a_j (i < j) is computed once, from the doubled limb. */
export function emitSqr(a: string[], n: string[], out: string[]): string[] {
  const limbs = a.length;
  const columns = Array.from({ length: 2 * limbs }, (_, k) => {
    const terms = a.flatMap((_ai, i) => (k - i > i && k - i < limbs ? [`d${i} * ${a[k - i]!}`] : []));
    if (k % 2 === 0 && k / 2 < limbs) terms.push(`${a[k / 2]!} * ${a[k / 2]!}`);
    return terms;
  });
  return [
    '{',
    ...a.map((ai, i) => `const d${i} = ${ai} + ${ai};`),
    ...declareColumns(columns),
    ...emitReduction(n, out),
    '}',
  ];
}

/** out = a + b. */
export function emitAdd(a: string[], b: string[], out: string[]): string[] {
  return emitNormalised(
    a.map((ai, i) => `${ai} + ${b[i]!}`),
    out,
  );
}

/** out = a − b + 2n. */
export function emitSub(a: string[], b: string[], twiceN: string[], out: string[]): string[] {
  return emitNormalised(
    a.map((ai, i) => `${ai} - ${b[i]!} + ${twiceN[i]!}`),
    out,
  );
}

function declareColumns(columns: string[][]): string[] {
  return columns.map((terms, k) => `let c${k} = ${terms.length > 0 ? terms.join(' + ') : '0'};`);
}

/**
 * Montgomery reduction of the columns c0..c(2L−1): for each low column, the digit m clears its low
 * 24 bits when m·n is added; the column, now a multiple of 2^24, carries into the next one. The high
 * columns are then normalised into `out`.
 */
function emitReduction(n: string[], out: string[]): string[] {
  const limbs = n.length;
  const lines: string[] = [];
  for (let i = 0; i < limbs; i++) {
    // imul (Math.imul) converts its argument modulo 2^32 (exactly, for integers below 2^53), so the low
    // 24 bits of the column need no separate extraction.
    lines.push(`{ const m = imul(c${i}, negativeInverse) & ${MASK};`);
    for (let j = 1; j < limbs; j++) lines.push(`c${i + j} += m * ${n[j]!};`);
    lines.push(`c${i + 1} += (c${i} + m * ${n[0]!}) * ${INVERSE}; }`);
  }
  return [
    ...lines,
    ...emitNormalised(
      out.map((_, i) => `c${limbs + i}`),
      out,
    ),
  ];
}

/** out_i = sum_i + carry, with each limb brought into [0, 2^24) and the carry passed up. */
function emitNormalised(sums: string[], out: string[]): string[] {
  const lines = ['{ let t = 0, carry = 0;'];
  sums.forEach((sum, i) => {
    lines.push(`t = ${sum} + carry; carry = floor(t * ${INVERSE}); ${out[i]!} = t - carry * ${BASE};`);
  });
  lines.push('}');
  return lines;
}
