/**
 * Where a job module keeps its definitions: the default export (one definition or an array of
 * them), else a named export `job`. Shared by the loader and the worker threads, so it imports
 * nothing heavy.
 */
export function exportedDefinitions(
  namespace: Readonly<Record<string, unknown>>,
): { definitions: unknown[]; isArray: boolean } | null {
  const exported = namespace.default !== undefined ? unwrapCommonJs(namespace.default) : namespace.job;
  if (exported === undefined) return null;
  return Array.isArray(exported)
    ? { definitions: exported, isArray: true }
    : { definitions: [exported], isArray: false };
}

/** The definition of `kind` in a module's exports, if any. */
export function exportedDefinition(namespace: Readonly<Record<string, unknown>>, kind: string): unknown {
  return exportedDefinitions(namespace)?.definitions.find(
    (definition) =>
      typeof definition === 'object' &&
      definition !== null &&
      (definition as { kind?: unknown }).kind === kind,
  );
}

/** A module compiled to CommonJS by TypeScript arrives as `{ __esModule: true, default }` under `default`. */
function unwrapCommonJs(exported: unknown): unknown {
  if (
    typeof exported === 'object' &&
    exported !== null &&
    (exported as { __esModule?: unknown }).__esModule === true
  ) {
    const inner = exported as { default?: unknown; job?: unknown };
    return inner.default ?? inner.job;
  }
  return exported;
}
