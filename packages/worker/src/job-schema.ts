import { Ajv, type ErrorObject, type Options as AjvOptions, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { z } from 'zod';
import type { JsonSchema } from './job-definition.js';
import { jsonProblem } from './json-value.js';

/** One failing field: `path` joins keys and indexes with dots (`items.2.url`); '' is the value itself. */
export interface SchemaIssue {
  path: string;
  message: string;
}

export type SchemaValidation = { ok: true; value: unknown } | { ok: false; issues: SchemaIssue[] };

type Validate = (value: unknown) => SchemaValidation;

/** A schema ready to use: its JSON Schema (for the registry and the producer) and its validator. */
interface CompiledSchema {
  jsonSchema: JsonSchema;
  validate: Validate;
}

/** A zod 4 schema at run time; zod's classes are not used, so another copy of zod works too. */
type ZodRuntimeSchema = z.core.$ZodType & {
  safeParse(
    data: unknown,
  ): { success: true; data: unknown } | { success: false; error: { issues: readonly ZodIssueLike[] } };
};

interface ZodIssueLike {
  path: readonly PropertyKey[];
  message: string;
}

export function isZodSchema(value: unknown): value is ZodRuntimeSchema {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { _zod?: unknown })._zod === 'object' &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

function isJsonSchema(value: unknown): value is JsonSchema {
  return typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

/**
 * Compiles a zod schema or a plain JSON Schema object; throws an Error whose message says what
 * is wrong (the caller names the module and the field). `io` picks the side of a zod schema the
 * JSON Schema describes: 'input' for job input (what callers send), 'output' for results.
 */
export function compileSchema(schema: unknown, io: 'input' | 'output'): CompiledSchema {
  if (isZodSchema(schema)) return compileZodSchema(schema, io);
  if (isJsonSchema(schema)) {
    const problem = jsonProblem(schema);
    if (problem !== null) throw new Error(`is not a JSON document: ${problem}`);
    // A plain schema is compiled strictly: a misspelt keyword (minLenght) is refused at start.
    return { jsonSchema: schema, validate: createJsonSchemaValidator(schema, { strict: true }) };
  }
  throw new Error('must be a zod schema or a JSON Schema object');
}

function compileZodSchema(schema: ZodRuntimeSchema, io: 'input' | 'output'): CompiledSchema {
  let jsonSchema: JsonSchema;
  try {
    jsonSchema = z.toJSONSchema(schema, { io }) as JsonSchema;
  } catch (error) {
    throw new Error(
      `cannot be expressed as JSON Schema (${error instanceof Error ? error.message : String(error)}): ` +
        'jobs travel as JSON, so use JSON types (a date as z.iso.datetime(), no transforms on results), or give a JSON Schema object',
      { cause: error },
    );
  }
  // The producer validates with this JSON Schema: make sure it compiles there too.
  createJsonSchemaValidator(jsonSchema);
  return { jsonSchema, validate: (value) => validateWithZod(schema, value) };
}

function validateWithZod(schema: ZodRuntimeSchema, value: unknown): SchemaValidation {
  let parsed: ReturnType<ZodRuntimeSchema['safeParse']>;
  try {
    parsed = schema.safeParse(value);
  } catch (error) {
    // zod throws here when the schema has async refinements: a job schema must check synchronously.
    throw new Error(
      `schema cannot be checked synchronously: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    })),
  };
}

/**
 * A validator for a JSON Schema (draft 2020-12 unless `$schema` names 2019-09 or draft-07),
 * compiled once, reporting every failing field. `strict` refuses unknown keywords and formats;
 * off by default, for schemas made by a tool (zod's annotations) rather than typed by hand.
 * The producer can use it on registered schemas to validate exactly as the worker would.
 */
export function createJsonSchemaValidator(schema: JsonSchema, options: { strict?: boolean } = {}): Validate {
  const strict = options.strict ?? false;
  const ajv = ajvFor(schema, {
    allErrors: true,
    strictSchema: strict,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false,
  });
  ajvFormats.default(ajv);
  if (!strict) {
    // Formats are annotations in JSON Schema 2020-12: one this validator does not know (zod's
    // "int32", "cuid", ...) is not enforced rather than refused.
    for (const format of formatsIn(schema))
      if (ajv.formats[format] === undefined) ajv.addFormat(format, true);
  }
  let compiled: ValidateFunction;
  try {
    compiled = ajv.compile(schema);
  } catch (error) {
    throw new Error(`is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (value) =>
    compiled(value) ? { ok: true, value } : { ok: false, issues: (compiled.errors ?? []).map(issueFromAjv) };
}

function ajvFor(schema: JsonSchema, options: AjvOptions): Ajv {
  const dialect = typeof schema === 'object' ? schema.$schema : undefined;
  if (
    dialect === undefined ||
    (typeof dialect === 'string' && /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/.test(dialect))
  ) {
    return new Ajv2020(options);
  }
  if (typeof dialect === 'string' && /^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/.test(dialect))
    return new Ajv2019(options);
  if (typeof dialect === 'string' && /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/.test(dialect))
    return new Ajv(options);
  throw new Error(
    `has an unsupported $schema ${JSON.stringify(dialect)} (supported: draft 2020-12, 2019-09, draft-07)`,
  );
}

function formatsIn(schema: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) formatsIn(item, found);
  } else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'format' && typeof value === 'string') found.add(value);
      else formatsIn(value, found);
    }
  }
  return found;
}

function issueFromAjv(error: ErrorObject): SchemaIssue {
  const segments =
    error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map(unescapePointer);
  // ajv reports a missing or an extra property at its parent object: name the property itself.
  const params = error.params as {
    missingProperty?: unknown;
    additionalProperty?: unknown;
    unevaluatedProperty?: unknown;
  };
  const property = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  if (typeof property === 'string') segments.push(property);
  return { path: segments.join('.'), message: error.message ?? error.keyword };
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** "number: must be number; items.2.url: ..." for an error message (the full list travels as details). */
export function describeIssues(issues: readonly SchemaIssue[], limit = 5): string {
  const shown = issues
    .slice(0, limit)
    .map((issue) => `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`);
  if (issues.length > limit) shown.push(`and ${issues.length - limit} more`);
  return shown.join('; ');
}
