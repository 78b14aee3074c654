import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobContext, JsonSchema, RetryPolicy } from './job-definition.js';
import { compileSchema, type SchemaValidation } from './job-schema.js';
import { exportedDefinitions } from './module-exports.js';
import { normalizeRetryPolicy, type NormalizedRetryPolicy } from './retry-policy.js';
import { schemaHash } from './schema-hash.js';

/** A job definition checked and normalized, ready for a host to register and run. */
export interface LoadedJobKind {
  kind: string;
  version: number;
  inputJsonSchema: JsonSchema;
  resultJsonSchema: JsonSchema | null;
  concurrency: number;
  timeoutMs: number | null;
  retry: NormalizedRetryPolicy;
  isolation: 'inline' | 'thread';
  /** The module's absolute file URL: worker threads import it from there. */
  specifier: string;
  /** sha256 of the canonical JSON of { version, input, result }: hosts of one version must agree. */
  schemaHash: string;
  /** The definition's own `run`; call it through `runJob`, which validates, times out and isolates. */
  run(input: unknown, ctx: JobContext): unknown;
  validateInput(value: unknown): SchemaValidation;
  /** Passes any value when the kind declares no result schema. */
  validateResult(value: unknown): SchemaValidation;
}

/** A job module that cannot be used, with a message naming the module and the bad field. */
export class JobModuleError extends Error {
  readonly code = 'invalid_job_module';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'JobModuleError';
  }
}

export const KIND_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFINITION_FIELDS = [
  'kind',
  'version',
  'input',
  'result',
  'run',
  'concurrency',
  'timeoutMs',
  'retry',
  'isolation',
];

/**
 * Checks definitions a host builds in its own process (a kind that takes the host's settings, as
 * the built-in ones do) exactly as it checks a module's; `source` names them in errors. They run
 * inline or in their own pools: a thread could not import them by a module path.
 */
export function loadJobDefinitions(definitions: readonly unknown[], source: string): LoadedJobKind[] {
  const kinds = jobKindsFromModule(
    { default: [...definitions] },
    { name: source, href: `conveyor:${source}` },
  );
  const threaded = kinds.find((kind) => kind.isolation === 'thread');
  if (threaded)
    throw new JobModuleError(
      `${source}: kind "${threaded.kind}" asks for a thread, which needs a module path: load it from a module instead`,
    );
  return kinds;
}

/**
 * Imports a job module (an absolute path, a path relative to the working directory, or a file
 * URL) holding exactly one job definition, and checks it. Throws a JobModuleError naming the
 * module and the field ("module ./x.mjs: kind must match ...").
 */
export async function loadJobModule(specifier: string): Promise<LoadedJobKind> {
  const kinds = await loadJobModules(specifier);
  if (kinds.length !== 1) {
    throw new JobModuleError(
      `module ${specifier}: exports ${kinds.length} job definitions; load it with loadJobModules`,
    );
  }
  return kinds[0]!;
}

/** Like loadJobModule, for a module that may export an array of definitions: all of them. */
export async function loadJobModules(specifier: string): Promise<LoadedJobKind[]> {
  const path = modulePath(specifier);
  const href = pathToFileURL(path).href;
  try {
    if (!(await stat(path)).isFile()) throw new JobModuleError(`module ${specifier}: ${path} is not a file`);
  } catch (error) {
    if (error instanceof JobModuleError) throw error;
    throw new JobModuleError(`module ${specifier}: file not found (${path})`, { cause: error });
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(importTarget(path, href))) as Record<string, unknown>;
  } catch (error) {
    throw new JobModuleError(
      `module ${specifier}: import failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return jobKindsFromModule(namespace, { name: specifier, href });
}

/** The checked definitions of an imported module's namespace. `name` is how messages refer to the module. */
export function jobKindsFromModule(
  namespace: Readonly<Record<string, unknown>>,
  module: { name: string; href: string },
): LoadedJobKind[] {
  const exported = exportedDefinitions(namespace);
  if (exported === null) {
    throw new JobModuleError(
      `module ${module.name}: no job definition: export one as default (or as \`job\`), or an array of them`,
    );
  }
  if (exported.definitions.length === 0)
    throw new JobModuleError(`module ${module.name}: exports an empty array of job definitions`);
  const kinds = exported.definitions.map((definition, index) =>
    loadDefinition(definition, {
      module: module.href,
      prefix: `module ${module.name}: ${exported.isArray ? `[${index}].` : ''}`,
    }),
  );
  const seen = new Set<string>();
  for (const { kind } of kinds) {
    if (seen.has(kind)) throw new JobModuleError(`module ${module.name}: kind "${kind}" is defined twice`);
    seen.add(kind);
  }
  return kinds;
}

function loadDefinition(definition: unknown, where: { module: string; prefix: string }): LoadedJobKind {
  const fail: Fail = (message, cause) => {
    throw new JobModuleError(`${where.prefix}${message}`, { cause });
  };
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    return fail('the export is not a job definition (an object with kind, input and run)');
  }
  const fields = definition as Record<string, unknown>;
  const unknownField = Object.keys(fields).find((key) => !DEFINITION_FIELDS.includes(key));
  if (unknownField !== undefined)
    fail(`unknown field ${unknownField} (known: ${DEFINITION_FIELDS.join(', ')})`);

  const { kind, run } = fields;
  if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) {
    fail(`kind must match ${String(KIND_PATTERN)} (got ${describe(kind)})`);
  }
  if (typeof run !== 'function') fail(`run must be a function (got ${describe(run)})`);
  const version = integerField(fields, 'version', { min: 1, max: MAX_TIMER_MS, fallback: 1 }, fail);
  const concurrency = integerField(fields, 'concurrency', { min: 1, max: 10_000, fallback: 1 }, fail);
  const timeoutMs =
    fields.timeoutMs === undefined
      ? null
      : integerField(fields, 'timeoutMs', { min: 1, max: MAX_TIMER_MS, fallback: 0 }, fail);
  const isolation = fields.isolation ?? 'inline';
  if (isolation !== 'inline' && isolation !== 'thread')
    fail(`isolation must be 'inline' or 'thread' (got ${describe(isolation)})`);
  const retry = normalizeRetryPolicy(retryField(fields.retry, fail));

  if (fields.input === undefined) fail('input is required: a zod schema or a JSON Schema object');
  const input = schemaField(fields.input, 'input', 'input', fail);
  const result = fields.result === undefined ? null : schemaField(fields.result, 'result', 'output', fail);
  return {
    kind,
    version,
    inputJsonSchema: input.jsonSchema,
    resultJsonSchema: result?.jsonSchema ?? null,
    concurrency,
    timeoutMs,
    retry,
    isolation,
    specifier: where.module,
    schemaHash: schemaHash({ version, input: input.jsonSchema, result: result?.jsonSchema ?? null }),
    // Called on its definition, as written: `this` in a method-style run is the definition.
    run: (input, ctx) => (run as LoadedJobKind['run']).call(definition, input, ctx),
    validateInput: input.validate,
    validateResult: result?.validate ?? ((value) => ({ ok: true, value })),
  };
}

type Fail = (message: string, cause?: unknown) => never;

function integerField(
  fields: Record<string, unknown>,
  name: string,
  range: { min: number; max: number; fallback: number },
  fail: Fail,
): number {
  const value = fields[name];
  if (value === undefined) return range.fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    fail(`${name} must be an integer from ${range.min} to ${range.max} (got ${describe(value)})`);
  }
  return value;
}

function retryField(value: unknown, fail: Fail): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null)
    return fail(`retry must be an object { maxAttempts, backoff? } (got ${describe(value)})`);
  const retry = value as Record<string, unknown>;
  const extra = Object.keys(retry).find((key) => key !== 'maxAttempts' && key !== 'backoff');
  if (extra !== undefined) fail(`unknown field retry.${extra} (known: maxAttempts, backoff)`);
  const maxAttempts = integerField(
    retry,
    'maxAttempts',
    { min: 1, max: 1000, fallback: Number.NaN },
    (message) => fail(`retry.${message}`),
  );
  if (Number.isNaN(maxAttempts))
    fail('retry.maxAttempts is required: an integer from 1 to 1000 (1: never retry)');
  if (retry.backoff === undefined) return { maxAttempts };
  if (typeof retry.backoff !== 'object' || retry.backoff === null) {
    return fail(
      `retry.backoff must be an object { type, delayMs, maxDelayMs? } (got ${describe(retry.backoff)})`,
    );
  }
  const backoff = retry.backoff as Record<string, unknown>;
  if (backoff.type === 'tiers') return { maxAttempts, backoff: tiersBackoff(backoff, fail) };
  const extraBackoff = Object.keys(backoff).find((key) => !['type', 'delayMs', 'maxDelayMs'].includes(key));
  if (extraBackoff !== undefined)
    fail(`unknown field retry.backoff.${extraBackoff} (known: type, delayMs, maxDelayMs)`);
  if (backoff.type !== 'fixed' && backoff.type !== 'exponential') {
    fail(`retry.backoff.type must be 'fixed', 'exponential' or 'tiers' (got ${describe(backoff.type)})`);
  }
  const failBackoff: Fail = (message) => fail(`retry.backoff.${message}`);
  const delayMs = integerField(
    backoff,
    'delayMs',
    { min: 0, max: MAX_TIMER_MS, fallback: Number.NaN },
    failBackoff,
  );
  if (Number.isNaN(delayMs)) fail(`retry.backoff.delayMs is required: an integer from 0 to ${MAX_TIMER_MS}`);
  const maxDelayMs =
    backoff.maxDelayMs === undefined
      ? undefined
      : integerField(backoff, 'maxDelayMs', { min: 0, max: MAX_TIMER_MS, fallback: 0 }, failBackoff);
  return {
    maxAttempts,
    backoff: {
      type: backoff.type as 'fixed' | 'exponential',
      delayMs,
      ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
    },
  };
}

/** `{ type: 'tiers', delaysMs: [...] }`: one to 100 delays, each an integer timer value. */
function tiersBackoff(backoff: Record<string, unknown>, fail: Fail): { type: 'tiers'; delaysMs: number[] } {
  const extra = Object.keys(backoff).find((key) => key !== 'type' && key !== 'delaysMs');
  if (extra !== undefined) fail(`unknown field retry.backoff.${extra} (known for tiers: type, delaysMs)`);
  const delays = backoff.delaysMs;
  const valid =
    Array.isArray(delays) &&
    delays.length >= 1 &&
    delays.length <= 100 &&
    delays.every((delay) => Number.isInteger(delay) && delay >= 0 && delay <= MAX_TIMER_MS);
  if (!valid)
    fail(
      `retry.backoff.delaysMs must be 1 to 100 integers from 0 to ${MAX_TIMER_MS} (got ${describe(delays)})`,
    );
  return { type: 'tiers', delaysMs: (delays as number[]).slice() };
}

function schemaField(
  value: unknown,
  name: string,
  io: 'input' | 'output',
  fail: Fail,
): ReturnType<typeof compileSchema> {
  try {
    return compileSchema(value, io);
  } catch (error) {
    return fail(`${name} ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function modulePath(specifier: string): string {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !isAbsolute(specifier)) {
    throw new JobModuleError(`module ${specifier}: give a file path or a file: URL`);
  }
  return resolve(process.cwd(), specifier);
}

/**
 * An absolute POSIX path imports the same module as its file URL in Node, and it also works
 * where a test runner turns import() into require() (jest, through swc). The URL is needed
 * where a path would be misread as one: Windows drive letters, '#', '?' and '%'.
 */
function importTarget(path: string, href: string): string {
  return process.platform === 'win32' || /[#?%]/.test(path) ? href : path;
}
