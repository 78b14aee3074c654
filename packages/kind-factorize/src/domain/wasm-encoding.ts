/**
 * A minimal WebAssembly binary encoder: just enough to assemble the small modules of this folder
 * (rho-word.ts) from instruction lists written in TypeScript, with no build step and no download.
 * Format reference: the WebAssembly core specification, "Binary Format".
 */

export const I32 = 0x7f;
export const I64 = 0x7e;

/** The opcodes used here. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Sub: 0x6b,
  i32Or: 0x72,
  i64Eqz: 0x50,
  i64Ne: 0x52,
  i64LtU: 0x54,
  i64GtU: 0x56,
  i64GeU: 0x5a,
  i64Ctz: 0x7a,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64And: 0x83,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  i64ExtendI32U: 0xad,
} as const;

/** Block type "no result". */
export const EMPTY_BLOCK = 0x40;

export function unsignedLeb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

export function signedLeb128(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const done = (rest === 0n && (byte & 0x40) === 0) || (rest === -1n && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  /** Extra locals after the parameters, by type. */
  locals: number[];
  body: number[];
}

/** A module of exported functions, each with its own type, and mutable i64 globals exported by name. */
export function encodeModule(functions: WasmFunction[], globals: string[]): Uint8Array {
  const vector = (items: number[][]): number[] => [...unsignedLeb128(items.length), ...items.flat()];
  const section = (id: number, content: number[]): number[] => [
    id,
    ...unsignedLeb128(content.length),
    ...content,
  ];
  const name = (text: string): number[] => vector([...new TextEncoder().encode(text)].map((byte) => [byte]));
  const types = functions.map((f) => [
    0x60,
    ...vector(f.params.map((t) => [t])),
    ...vector(f.results.map((t) => [t])),
  ]);
  const codes = functions.map((f) => {
    const locals = vector(f.locals.map((type) => [1, type]));
    const code = [...locals, ...f.body, Op.end];
    return [...unsignedLeb128(code.length), ...code];
  });
  const exports = [
    ...functions.map((f, index) => [...name(f.name), 0x00, ...unsignedLeb128(index)]),
    ...globals.map((g, index) => [...name(g), 0x03, ...unsignedLeb128(index)]),
  ];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, index) => unsignedLeb128(index)))),
    ...section(6, vector(globals.map(() => [I64, 0x01, Op.i64Const, 0x00, Op.end]))),
    ...section(7, vector(exports)),
    ...section(10, vector(codes)),
  ];
  return Uint8Array.from(bytes);
}
