/**
 * The public shape of a job kind. `defineJob` only adds types: a plain JavaScript module whose
 * default export is the same object literal, importing nothing, is a valid job module too.
 */

/** A scoped logger: a constant message, the data in `meta`. */
export interface JobLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface JobContext {
  jobId: string;
  customId: string | null;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  /** Aborts on cancellation and on the kind's timeout; `reason` says which. */
  signal: AbortSignal;
  /** `fraction` from 0 to 1 (clamped). */
  progress(fraction: number, message?: string): void;
  log: JobLogger;
}

export interface RetryPolicy {
  /** Runs in all, the first included: 1 means never retry. */
  maxAttempts: number;
  backoff?:
    | {
        type: 'fixed' | 'exponential';
        /** The first delay; exponential doubles it per attempt. */
        delayMs: number;
        /** Cap of an exponential delay; default 60 000 ms (or delayMs when larger). */
        maxDelayMs?: number;
      }
    | {
        type: 'tiers';
        /** The delay before each retry in turn; the last one repeats. */
        delaysMs: number[];
      };
}

/** A plain JSON Schema object (draft 2020-12 unless its `$schema` names draft-07). */
export type JsonSchema = { readonly [keyword: string]: unknown } | boolean;

/**
 * A zod 4 schema, recognized by shape (`_zod` and `safeParse`) so that a module's own copy of
 * zod works; `Output` is read from zod's type-level `_zod.output`.
 */
export interface ZodSchemaLike<Output = unknown> {
  readonly _zod: { readonly output: Output };
  safeParse(data: unknown): unknown;
}

export type Schema<T = unknown> = ZodSchemaLike<T> | JsonSchema;

export interface JobDefinition<I = unknown, R = unknown> {
  /** Matches /^[a-z][a-z0-9-]{0,62}$/: it names queues and routes. */
  kind: string;
  /** Bump when the input or result schema changes; default 1. */
  version?: number;
  input: Schema<I>;
  result?: Schema<R>;
  run(input: I, ctx: JobContext): Promise<R> | R;
  /** Jobs of this kind at once per worker host; default 1. */
  concurrency?: number;
  /** Per attempt; on expiry `ctx.signal` aborts and the job fails with code 'timeout'. No default. */
  timeoutMs?: number;
  /** Default: 5 attempts, exponential backoff from 1 000 ms up to 60 000 ms. */
  retry?: RetryPolicy;
  /** 'thread' runs `run` in a worker-thread pool, for CPU-bound work; default 'inline'. */
  isolation?: 'inline' | 'thread';
}

/** Only adds types: returns its argument, so the input and result types flow from the schemas into `run`. */
export function defineJob<I, R>(definition: JobDefinition<I, R>): JobDefinition<I, R> {
  return definition;
}
