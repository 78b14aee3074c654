/**
 * Job results are stored as JSON and pushed to webhooks: a value that JSON would silently
 * change (a Map becomes {}, NaN becomes null, a bigint throws) is refused with the path of the
 * first offending part.
 */
export function jsonProblem(value: unknown): string | null {
  return problemAt(value, '', new Set());
}

/** The JSON form of a value `jsonProblem` accepted (a Date becomes its ISO string; undefined becomes null). */
export function toJsonValue(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function problemAt(value: unknown, path: string, ancestors: Set<object>): string | null {
  const at = path === '' ? '(root)' : path;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${at}: ${String(value)} is not a JSON number`;
    case 'bigint':
      return `${at}: a bigint is not JSON (return it as a string)`;
    case 'symbol':
    case 'function':
      return `${at}: a ${typeof value} is not JSON`;
    case 'object':
      return value === null ? null : objectProblem(value, path, at, ancestors);
  }
}

function objectProblem(value: object, path: string, at: string, ancestors: Set<object>): string | null {
  if (ancestors.has(value)) return `${at}: a circular reference is not JSON`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return problemAt(toJSON.call(value) as unknown, path, ancestors);
  if (!Array.isArray(value) && !isPlainObject(value)) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
      ?.name;
    return `${at}: ${typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype'} is not plain JSON`;
  }
  ancestors.add(value);
  try {
    for (const [key, item] of Object.entries(value)) {
      const problem = problemAt(item, path === '' ? key : `${path}.${key}`, ancestors);
      if (problem !== null) return problem;
    }
    return null;
  } finally {
    ancestors.delete(value);
  }
}

/** An object literal, from any realm (a worker thread's result is cloned into the main realm's objects, a vm context has its own). */
function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as { constructor?: unknown } | null;
  if (prototype === null) return true;
  return (
    Object.getPrototypeOf(prototype) === null &&
    typeof prototype.constructor === 'function' &&
    prototype.constructor.name === 'Object'
  );
}
