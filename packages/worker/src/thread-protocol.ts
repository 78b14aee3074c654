import type { MessagePort } from 'node:worker_threads';
import type { EncodedError } from './error-transfer.js';

/** What the pool hands a worker thread for one job (or, with mode 'check', for a start-up check). */
export interface ThreadTask {
  mode: 'run' | 'check';
  specifier: string;
  kind: string;
  input: unknown;
  job: { jobId: string; customId: string | null; attempt: number };
  /** Thread → pool: progress, log, end; pool → thread: abort. */
  port: MessagePort;
  /** Int32 set to 1 on abort, so that a run spinning on the CPU sees `signal.aborted` without its event loop turning. */
  abortFlag: SharedArrayBuffer;
}

export type ThreadOutcome = { ok: true; value: unknown } | { ok: false; error: EncodedError };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ThreadMessage =
  | { type: 'progress'; fraction: number; message?: string }
  | { type: 'log'; level: LogLevel; message: string; meta?: Record<string, unknown> }
  /** The last message of a task: everything it sent before has arrived. */
  | { type: 'end' };

export interface AbortMessage {
  type: 'abort';
  reason: EncodedError;
}
