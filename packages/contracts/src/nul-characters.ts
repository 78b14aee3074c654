/**
 * Where a JSON value holds a NUL character (U+0000), as a dotted path ('' for the value itself),
 * or undefined when it holds none. PostgreSQL's text and jsonb cannot store NUL, so a value
 * carrying one must be refused at the API with its path, not fail in the database as a 500.
 */
export function nulCharacterPath(value: unknown, path = ''): string | undefined {
  const at = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulCharacterPath(item, at(index));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\0')) return at(key.replaceAll('\0', '\\0'));
      const found = nulCharacterPath(item, at(key));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
