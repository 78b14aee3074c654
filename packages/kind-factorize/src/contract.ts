import { z } from 'zod';

/**
 * Parses the number a user asks to factorize: a string of decimal digits, or a JSON number that is
 * a safe integer. Every refusal names the rule it broke and says what to send instead.
 */

export type NumberRule =
  | 'not_an_integer'
  | 'negative'
  | 'zero'
  | 'fraction'
  | 'exponent'
  | 'non_digit'
  | 'too_many_digits'
  | 'empty'
  | 'unsafe_integer';

export type ParsedNumber =
  { ok: true; value: bigint; digits: number } | { ok: false; rule: NumberRule; message: string };

/** What a decimal number can look like: sign, digits, optional fraction and exponent. */
const ONLY_DIGITS = /^\d+$/;
const DECIMAL_SYNTAX = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** Inputs echoed in messages are cut to this length. */
const MAX_ECHOED_CHARACTERS = 40;

export function parseFactorizeInput(raw: unknown, maxDigits: number): ParsedNumber {
  if (raw === undefined || raw === null)
    return refuse('empty', 'a number is required: send a positive integer as a string of digits');
  if (typeof raw === 'string') return parseString(raw.trim(), maxDigits);
  if (typeof raw === 'number') return parseJsonNumber(raw, maxDigits);
  return refuse(
    'not_an_integer',
    `number must be a positive integer, as a string of digits or a JSON number (got a value of type ${typeof raw})`,
  );
}

function parseString(text: string, maxDigits: number): ParsedNumber {
  const got = `(got ${echo(text)})`;
  if (text === '')
    return refuse('empty', 'number must not be empty: send a positive integer as a string of digits');
  if (!ONLY_DIGITS.test(text)) return refuseMalformed(text, got);
  // Count before converting: BigInt() of a million digits is a tenth of a second of event loop.
  const digits = text.length - leadingZeros(text);
  if (digits > maxDigits)
    return refuse('too_many_digits', `number must have at most ${maxDigits} digits, it has ${digits}`);
  return checkSize(BigInt(text), digits, maxDigits, got);
}

/** Why a string that is not plain digits is refused, rule by rule. */
function refuseMalformed(text: string, got: string): ParsedNumber {
  if (!DECIMAL_SYNTAX.test(text))
    return refuse('non_digit', `number must contain only the digits 0-9 ${got}`);
  if (text.startsWith('-'))
    return refuse('negative', `number must be a positive integer, not negative ${got}`);
  if (/[eE]/.test(text))
    return refuse('exponent', `number must be a positive integer without an exponent ${got}`);
  return refuse('fraction', `number must be a positive integer without a decimal point ${got}`);
}

function leadingZeros(digits: string): number {
  let count = 0;
  while (count < digits.length && digits.charCodeAt(count) === 48) count++;
  return count;
}

function parseJsonNumber(value: number, maxDigits: number): ParsedNumber {
  const got = `(got ${echo(String(value))})`;
  if (!Number.isFinite(value))
    return refuse('not_an_integer', `number must be a finite positive integer ${got}`);
  if (value < 0) return refuse('negative', `number must be a positive integer, not negative ${got}`);
  if (!Number.isInteger(value))
    return refuse('fraction', `number must be a positive integer without a fractional part ${got}`);
  if (!Number.isSafeInteger(value)) {
    return refuse(
      'unsafe_integer',
      `number is above ${Number.MAX_SAFE_INTEGER}, where JSON numbers lose precision: send it as a string of digits instead ${got}`,
    );
  }
  return checkSize(BigInt(value), value === 0 ? 0 : String(value).length, maxDigits, got);
}

function checkSize(value: bigint, digits: number, maxDigits: number, got: string): ParsedNumber {
  if (value === 0n)
    return refuse('zero', `number must be a positive integer; 0 has no prime factorization ${got}`);
  if (digits > maxDigits)
    return refuse('too_many_digits', `number must have at most ${maxDigits} digits, it has ${digits}`);
  return { ok: true, value, digits };
}

function refuse(rule: NumberRule, message: string): ParsedNumber {
  return { ok: false, rule, message };
}

function echo(text: string): string {
  return JSON.stringify(
    text.length > MAX_ECHOED_CHARACTERS ? `${text.slice(0, MAX_ECHOED_CHARACTERS)}…` : text,
  );
}

/** `factorize` job input as stored: the number as a canonical decimal string (parseFactorizeInput's value). */
export const FactorizeInput = z.object({
  number: z.string().regex(/^[1-9]\d*$/, 'must be canonical decimal digits'),
});
export type FactorizeInput = z.infer<typeof FactorizeInput>;

/** `factorize` job result. */
export const FactorizeResult = z.object({
  factors: z.array(z.string()),
  /** The product of the factors, recomputed after factoring: always equal to the input. */
  product: z.string(),
  verified: z.boolean(),
});
export type FactorizeResult = z.infer<typeof FactorizeResult>;

/**
 * `factorize` job input as a client sends it: the number as decimal digits or a JSON integer.
 * parseFactorizeInput checks it (naming the rule a refusal broke) and makes it a FactorizeInput.
 */
export const FactorizeRequest = z.object({
  number: z.union([
    z.string().regex(/^\s*\d+\s*$/, 'must be decimal digits'),
    z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  ]),
});
export type FactorizeRequest = z.infer<typeof FactorizeRequest>;
