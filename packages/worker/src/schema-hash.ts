import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so that key order does not change the text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What two hosts of one kind version must agree on: sha256 (hex) of the canonical JSON of the
 * version and the input and result JSON Schemas.
 */
export function schemaHash(parts: { version: number; input: unknown; result: unknown }): string {
  return createHash('sha256')
    .update(canonicalJson({ version: parts.version, input: parts.input, result: parts.result ?? null }))
    .digest('hex');
}
