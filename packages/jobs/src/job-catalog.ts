import type { z } from 'zod';
import { CsvSumInput, CsvSumResult } from '@conveyor/kind-csv-sum/contract';
import { FactorizeInput, FactorizeResult } from '@conveyor/kind-factorize/contract';
import { ImageResizeInput, ImageResizeResult } from '@conveyor/kind-image-resize/contract';
import { isBuiltInJobKind, JobKind, type BuiltInJobKind } from '@conveyor/contracts';

/**
 * What each built-in kind takes and gives. A registered kind (a job module) brings its own
 * schemas, which its worker host checks at run time, so its input and result stay `unknown`.
 */
export const JobCatalog = {
  factorize: { input: FactorizeInput, result: FactorizeResult },
  'csv-sum': { input: CsvSumInput, result: CsvSumResult },
  'image-resize': { input: ImageResizeInput, result: ImageResizeResult },
} satisfies Record<BuiltInJobKind, { input: z.ZodType; result: z.ZodType }>;

/** The stored input of a built-in kind (its schema's output: defaults filled in). */
export type JobInput<K extends BuiltInJobKind> = z.output<(typeof JobCatalog)[K]['input']>;
/** The result of a built-in kind. */
export type JobResult<K extends BuiltInJobKind> = z.output<(typeof JobCatalog)[K]['result']>;

/**
 * The name of a kind a worker host registered, never a built-in one. Branded so that no
 * registered job can be built with a built-in name, which is what lets `isJobOfKind` trust
 * the kind alone.
 */
export const RegisteredKindName = JobKind.refine(
  (kind) => !isBuiltInJobKind(kind),
  'is the name of a built-in kind',
).brand<'RegisteredKindName'>();
export type RegisteredKindName = z.output<typeof RegisteredKindName>;

/** A built-in job's kind with its typed input and result (null until it succeeds, and once expired). */
export type BuiltInJobData<K extends BuiltInJobKind = BuiltInJobKind> = {
  [P in K]: { kind: P; input: JobInput<P>; result: JobResult<P> | null };
}[K];

/** A registered kind's job: what its run takes and gives is checked by its host, not typed here. */
export interface RegisteredJobData {
  kind: RegisteredKindName;
  input: unknown;
  result: unknown;
}

/**
 * A job's kind, input and result. Narrow it with `isJobOfKind`: comparing `kind` alone cannot,
 * since a registered kind's name is a string and TypeScript keeps it beside every literal.
 */
export type JobData = BuiltInJobData | RegisteredJobData;

/** Narrows a job (anything carrying its JobData) to one built-in kind. */
export function isJobOfKind<J extends JobData, K extends BuiltInJobKind>(
  job: J,
  kind: K,
): job is J & BuiltInJobData<K> {
  return job.kind === kind;
}

/**
 * A stored job's kind, input and result, checked against the kind's schemas: the one place an
 * untyped input or result becomes a typed one. A mismatch (a row written by hand, or before an
 * incompatible change to a contract) throws, naming the field, rather than reaching code typed
 * to trust it. A registered kind's input and result pass as they are.
 */
export function parseJobData(kind: string, input: unknown, result: unknown): JobData {
  const stored = result ?? null;
  if (!isBuiltInJobKind(kind)) return { kind: RegisteredKindName.parse(kind), input, result: stored };
  // One case per kind binds the kind's literal to its schemas' types.
  switch (kind) {
    case 'factorize':
      return { kind, ...parseWith(JobCatalog[kind], kind, input, stored) };
    case 'csv-sum':
      return { kind, ...parseWith(JobCatalog[kind], kind, input, stored) };
    case 'image-resize':
      return { kind, ...parseWith(JobCatalog[kind], kind, input, stored) };
    default: {
      const unknownKind: never = kind;
      throw new Error(`no schemas for the job kind ${String(unknownKind)}`);
    }
  }
}

function parseWith<I, R>(
  schemas: { input: z.ZodType<I>; result: z.ZodType<R> },
  kind: BuiltInJobKind,
  input: unknown,
  result: unknown,
): { input: I; result: R | null } {
  return {
    input: checked(schemas.input, input, kind, 'input'),
    result: result === null ? null : checked(schemas.result, result, kind, 'result'),
  };
}

function checked<T>(
  schema: z.ZodType<T>,
  value: unknown,
  kind: BuiltInJobKind,
  field: 'input' | 'result',
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${[field, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new Error(`stored ${field} does not match the ${kind} schema (${issues.join('; ')})`, {
    cause: parsed.error,
  });
}
