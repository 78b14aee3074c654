import { createHash } from 'node:crypto';
import { CsvSumInput } from '@conveyor/kind-csv-sum/contract';
import { ImageResizeInput } from '@conveyor/kind-image-resize/contract';
import { isBuiltInJobKind, type BuiltInJobKind, type JobKind } from '@conveyor/contracts';
import { parseFactorizeInput, type FactorizeInput } from '@conveyor/kind-factorize/contract';
import type { SchemaCheck } from '@conveyor/jobs';
import { AppError, parseOrThrow } from '@conveyor/platform';
import type { JobPolicy, KindPolicyLimits } from './job-policy.js';

export interface JobInputLimits {
  factorizeMaxDigits: number;
  /**
   * Proves a local path stays inside the storage root (no `..`, no symlink out); throws a 400
   * otherwise. I/O, so it is passed in and the rest of this module stays pure.
   */
  checkLocalPath: (path: string) => Promise<void>;
}

/** The kinds worker hosts registered, as submission needs them (I/O, passed in). */
export interface KindLookup {
  /** The registered kind's input check, or undefined when no worker host registered it. */
  find(kind: string): Promise<{ checkInput: (value: unknown) => SchemaCheck } | undefined>;
  /** Every kind a client may submit, for the error that lists them. */
  names(): Promise<string[]>;
  /** A kind's timeout and most attempts as its hosts registered them; undefined before any did. */
  limits(kind: string): Promise<KindPolicyLimits | undefined>;
}

/** Where a job's input sits in the request, for the paths a 400 names: `body` on the old routes. */
export type InputPath = 'body' | 'body.input';

/**
 * Checks a job's input against its kind's rules and returns it in canonical form (what is
 * stored and what the idempotency hash covers). A broken rule is a 400 naming the field and the rule.
 */
export async function normalizeJobInput(
  kind: JobKind,
  input: unknown,
  limits: JobInputLimits,
  kinds: KindLookup,
  inputPath: InputPath = 'body.input',
): Promise<unknown> {
  if (isBuiltInJobKind(kind)) return normalizeBuiltInInput(kind, input, limits, inputPath);
  const registered = await kinds.find(kind);
  if (!registered) {
    const known = await kinds.names();
    throw new AppError(
      'unknown_kind',
      `no worker has registered the job kind "${kind}"; known kinds: ${known.join(', ')}`,
      {
        status: 422,
        details: [{ path: 'body.kind', message: `must be one of: ${known.join(', ')}` }],
      },
    );
  }
  const check = registered.checkInput(input);
  if (!check.ok) {
    const details = check.issues.map((issue) => ({
      path: issue.path === '' ? inputPath : `${inputPath}.${issue.path}`,
      message: issue.message,
    }));
    throw new AppError(
      'invalid_input',
      `the input does not match the ${kind} job's schema: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      {
        status: 422,
        details,
      },
    );
  }
  return input;
}

async function normalizeBuiltInInput(
  kind: BuiltInJobKind,
  input: unknown,
  limits: JobInputLimits,
  inputPath: InputPath,
): Promise<unknown> {
  switch (kind) {
    case 'factorize': {
      const raw = typeof input === 'object' && input !== null && 'number' in input ? input.number : undefined;
      const parsed = parseFactorizeInput(raw, limits.factorizeMaxDigits);
      if (!parsed.ok) {
        throw new AppError('invalid_number', parsed.message, {
          status: 400,
          details: [{ path: `${inputPath}.number`, message: `${parsed.rule}: ${parsed.message}` }],
        });
      }
      const normalized: FactorizeInput = { number: parsed.value.toString() };
      return normalized;
    }
    case 'csv-sum': {
      const parsed = parseOrThrow(CsvSumInput, input, inputPath);
      if (parsed.storage === 'local') {
        await limits.checkLocalPath(parsed.path).catch((error: unknown) => {
          throw namingField(error, `${inputPath}.path`);
        });
      }
      return parsed;
    }
    case 'image-resize':
      // Built by the upload route from a stored file; never taken from a client's JSON.
      return parseOrThrow(ImageResizeInput, input, inputPath);
    default: {
      const unknownKind: never = kind;
      throw new AppError('unknown_kind', `unknown job kind ${String(unknownKind)}`, { status: 400 });
    }
  }
}

/** A client's error (4xx) about one field, with that field named in its details; others as they are. */
function namingField(error: unknown, path: string): unknown {
  if (!(error instanceof AppError) || error.status >= 500 || error.details !== undefined) return error;
  return new AppError(error.code, error.message, {
    status: error.status,
    details: [{ path, message: error.message }],
    cause: error,
  });
}

/** What makes two submissions "the same request" for customId idempotency. */
export function requestHash(
  kind: JobKind,
  normalizedInput: unknown,
  callbackUrl: string | null,
  policy: JobPolicy = {},
): string {
  // A job's own policy is part of the request only when it has one: older hashes stay valid.
  const asked = policy.timeoutMs !== undefined || policy.maxAttempts !== undefined;
  return createHash('sha256')
    .update(
      JSON.stringify(
        asked ? [kind, normalizedInput, callbackUrl, policy] : [kind, normalizedInput, callbackUrl],
      ),
    )
    .digest('base64url');
}
