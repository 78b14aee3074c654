import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

export interface SchemaIssue {
  /** Dotted path inside the validated value ('' for the value itself). */
  path: string;
  message: string;
}

export type SchemaCheck = { ok: true } | { ok: false; issues: SchemaIssue[] };

/**
 * Checks values against a JSON Schema (draft 2020-12, what zod's toJSONSchema writes; earlier
 * drafts' common keywords too) with ajv, compiled once per schema. Every failing field is
 * reported, each with a path a client can find in what it sent.
 */
export function jsonSchemaValidator(schema: object): (value: unknown) => SchemaCheck {
  // A fresh ajv per schema: schemas from different kinds may reuse the same $id.
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  const validate: ValidateFunction = ajv.compile(withoutDialect(schema));
  return (value) =>
    validate(value) ? { ok: true } : { ok: false, issues: (validate.errors ?? []).map(toIssue) };
}

/** ajv 2020 refuses a `$schema` it was not built for (draft-07's, say); the keywords it checks are the same. */
function withoutDialect(schema: object): object {
  return Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword !== '$schema'));
}

function toIssue(error: ErrorObject): SchemaIssue {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  // A missing property is reported on its parent; name the property itself.
  const missing: unknown = error.keyword === 'required' ? error.params.missingProperty : undefined;
  if (typeof missing === 'string') segments.push(missing);
  const unexpected: unknown =
    error.keyword === 'additionalProperties' ? error.params.additionalProperty : undefined;
  if (typeof unexpected === 'string') segments.push(unexpected);
  return { path: segments.join('.'), message: error.message ?? 'is invalid' };
}
