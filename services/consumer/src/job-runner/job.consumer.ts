import type { HandlerContext } from '@conveyor/broker';
import { isTerminal, type JobError, type JobRunRequested, type JobStatus } from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import type { JobPatch, JobRecord, JobStore } from '@conveyor/jobs';
import {
  AppError,
  errorMessage,
  PermanentError,
  RetryLaterError,
  sleep,
  type Tracing,
} from '@conveyor/platform';
import type { JobRunMetrics } from './job-run.metrics.js';

/** How the work of one kind ended, as the job runner needs to know it. */
export type WorkOutcome =
  | { type: 'succeeded'; result: unknown }
  | { type: 'cancelled' }
  | {
      type: 'failed';
      error: JobError;
      permanent: boolean;
      /** When the work knows when to try again. */ retryAfterMs?: number;
    };

export interface WorkContext {
  /** Aborted when the client cancels the job or the consumer shuts down. */
  signal: AbortSignal;
  reportProgress(fraction: number, message: string): void;
  /** 1 on the first run, 2 on the first retry, and so on. */
  attempt: number;
}

export type JobWork = (job: JobRecord, ctx: WorkContext) => Promise<WorkOutcome>;

export interface JobConsumerDeps {
  store: JobStore;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
  maxAttempts: number;
  resultTtlMs: number;
  /** How often progress is written (and the cancel flag read) while a job runs. */
  checkIntervalMs: number;
  /**
   * A run still going after this long commits `running` (and from then on heartbeats and
   * reports progress); one that ends sooner goes from queued to its end in one change.
   */
  runningAfterMs: number;
  /** The kind's run metrics (counted from the job record in hand: no statement of their own). */
  metrics?: JobRunMetrics;
  /** Spans for runs, continuing the trace of the request that created the job (tracing on). */
  tracing?: Tracing | undefined;
}

const CANCELLED = 'cancelled by the client';
const NOT_STARTABLE = 'the job may no longer start (cancelled, finished or taken over)';
/** Past the busy window, so the runner's last heartbeat is certainly older than it. */
const BUSY_WAIT_MARGIN_MS = 50;

/**
 * Runs jobs of one kind from their work messages. The job row is the truth: a message for a
 * finished job republishes its final event and is acked without running anything again; a job
 * found running whose runner has stopped heartbeating (its consumer died) runs again. Progress
 * (or a heartbeat) is written every `checkIntervalMs`, and the same write reads the cancel
 * flag, so a cancelled job stops at its next check.
 *
 * A run is committed as `running` only once it has lasted `runningAfterMs`: most jobs end
 * sooner, and then their start and end are one change (one UPDATE, one event) instead of two,
 * as Celery reports STARTED only when asked to. Until then the job stays `queued`: a runner that
 * dies leaves it to the message's redelivery (the broker counts those against the delivery
 * limit), and a cancel meanwhile makes the final change fail its guard, so the run's result is
 * dropped. Runs never overlap once `running` is committed; a duplicate message delivered inside
 * the window may run the job twice, which is what at-least-once delivery promises anyway.
 *
 * A job's events are published in the order they committed, but nothing waits for their
 * confirms: the work starts as soon as the row has been read, and the message is acked as soon
 * as the final state has committed. Every event's outbox row committed with its change, so an
 * event whose publish fails, or whose process dies first, is sent by the outbox relay; waiting
 * for the broker here would only hold a prefetch slot (Little's law: slots / time held = jobs
 * per second).
 */
export function jobHandler(deps: JobConsumerDeps, work: JobWork) {
  // A running job heartbeats every check interval; one silent for several intervals has no runner.
  const busyWindowMs = deps.checkIntervalMs * 4;
  return (message: JobRunRequested, ctx: HandlerContext): Promise<void> => runJob(message, ctx, true);

  /**
   * Reads the job and, if it may start, runs it: `running` is committed only if the run lasts
   * (see above). When it may not start, finds out why.
   */
  async function runJob(message: JobRunRequested, ctx: HandlerContext, mayTryAgain: boolean): Promise<void> {
    const job = await deps.store.load(message.jobId);
    const span = mayTryAgain ? startRunSpan(job, message, ctx) : undefined;
    if (!span) return runLoaded(job, message, ctx, mayTryAgain);
    try {
      await runLoaded(job, message, ctx, mayTryAgain);
      span.end();
    } catch (error) {
      span.end(errorMessage(error));
      throw error;
    }
  }

  /**
   * A consumer span for the delivery, a child of the message's `traceparent`, or of the job
   * row's when the message lost its headers (re-sent from the outbox, or from a retry tier).
   */
  function startRunSpan(job: JobRecord | undefined, message: JobRunRequested, ctx: HandlerContext) {
    return deps.tracing?.startSpan(`process ${job?.kind ?? 'job'}`, {
      kind: 'consumer',
      parent: ctx.traceparent ?? job?.traceParent,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.message.id': ctx.envelope.messageId,
        'conveyor.job.id': message.jobId,
        'conveyor.job.attempt': (job?.attempts ?? 0) + 1,
      },
    });
  }

  async function runLoaded(
    job: JobRecord | undefined,
    message: JobRunRequested,
    ctx: HandlerContext,
    mayTryAgain: boolean,
  ): Promise<void> {
    if (!job || !mayStart(job)) return notStarted(job, message, ctx, mayTryAgain);
    const send = inOrder();
    const run = await runWithChecks(job, ctx, send);
    if (run.refused) return notStarted(await deps.store.get(job.id), message, ctx, mayTryAgain);
    const finished = await finish(job, run, ctx, send);
    if (!finished) return notStarted(await deps.store.get(job.id), message, ctx, mayTryAgain);
  }

  /** The start's own guard (JobStore.start), judged on the row as read. */
  function mayStart(job: JobRecord): boolean {
    if (job.cancelRequested) return false;
    if (job.status === 'queued') return true;
    return job.status === 'running' && Date.now() - job.updatedAt.getTime() >= busyWindowMs;
  }

  /** Sends one job's committed messages in commit order, each batch after the previous one has settled; never throws. */
  function inOrder(): (messages: OutboxMessage[]) => void {
    let previous = Promise.resolve();
    return (messages) => {
      if (messages.length > 0) previous = previous.then(() => deps.sendNow(messages)).catch(() => undefined);
    };
  }

  /** The job could not start: finished, cancel requested, running elsewhere, missing, or it changed meanwhile. */
  async function notStarted(
    job: JobRecord | undefined,
    message: JobRunRequested,
    ctx: HandlerContext,
    mayTryAgain: boolean,
  ): Promise<void> {
    const { correlationId } = ctx.envelope;
    if (!job) throw new PermanentError('job_not_found', `job ${message.jobId} does not exist`);

    if (isTerminal(job.status)) {
      ctx.log.info('job already finished, republishing its final event', {
        jobId: job.id,
        status: job.status,
      });
      await deps.sendNow(await deps.store.republishLatestEvent(job, correlationId));
      return;
    }
    const silentForMs = Date.now() - job.updatedAt.getTime();
    if (job.status === 'running' && silentForMs < busyWindowMs) {
      // Another consumer is running it right now (a duplicate message, e.g. from the repair
      // routine), or was until it died (a kill -9 redelivers its message at once). Wait out the
      // busy window here, once: a dead runner's heartbeat has stopped by then and this message
      // takes over, instead of spending the job's retries on a kind's short backoff.
      if (mayTryAgain) {
        await sleep(busyWindowMs - silentForMs + BUSY_WAIT_MARGIN_MS, ctx.signal);
        if (ctx.signal.aborted) throw new AppError('shutting_down', 'consumer is shutting down');
        return runJob(message, ctx, false);
      }
      throw new RetryLaterError(
        'job_busy',
        `job ${job.id} is running elsewhere; retrying later`,
        busyWindowMs,
      );
    }
    if (job.cancelRequested) {
      await commit(
        deps.store.transition(job.id, 'cancelled', { finishedAt: new Date() }, correlationId),
        inOrder(),
      );
      return;
    }
    // Startable by the row as read: it changed between the start and the read (or this clock and
    // the database's disagree on staleness). Try once more, then leave it to the retry tier.
    if (mayTryAgain) return runJob(message, ctx, false);
    throw new AppError('job_busy', `job ${job.id} changed while starting; retrying later`);
  }

  /** Waits for the change to commit; its messages go out in the background (see above). */
  async function commit(
    change: Promise<{ outbox: OutboxMessage[] } | undefined>,
    send: (messages: OutboxMessage[]) => void,
  ): Promise<void> {
    const committed = await change;
    if (committed) send(committed.outbox);
  }

  /**
   * Runs the work; once it has lasted `runningAfterMs`, commits `running` and from then on
   * writes progress (or a heartbeat) every check interval. `started` says whether `running`
   * committed; `refused` that the start was refused meanwhile (the work is then stopped).
   */
  async function runWithChecks(
    job: JobRecord,
    ctx: HandlerContext,
    send: (messages: OutboxMessage[]) => void,
  ): Promise<{ outcome: WorkOutcome; started: boolean; refused: boolean; startedAt: Date }> {
    const startedAt = new Date();
    deps.metrics?.started(job, startedAt);
    const stop = new AbortController();
    const onShutdown = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onShutdown, { once: true });
    let latest: { fraction: number; message: string } | undefined;
    let reported: typeof latest;
    let started = false;
    let refused = false;
    let checks: NodeJS.Timeout | undefined;
    const warn = (what: string) => (error: unknown) => {
      ctx.log.warn(what, { jobId: job.id, error: errorMessage(error) });
    };

    async function commitStart(): Promise<void> {
      const committed = await deps.store.start(job.id, busyWindowMs, ctx.envelope.correlationId);
      if (!committed) {
        refused = true;
        if (!stop.signal.aborted) stop.abort(NOT_STARTABLE);
        return;
      }
      started = true;
      send(committed.outbox);
      checks = setInterval(() => void check().catch(warn('progress check failed')), deps.checkIntervalMs);
    }
    let starting: Promise<void> | undefined;
    const startTimer = setTimeout(() => {
      starting = commitStart().catch(warn('could not commit the job as running'));
    }, deps.runningAfterMs);

    async function check(): Promise<void> {
      let cancelRequested: boolean;
      if (latest && latest !== reported) {
        reported = latest;
        const committed = await deps.store.reportProgress(
          job.id,
          { fraction: latest.fraction, message: latest.message },
          ctx.envelope.correlationId,
        );
        if (committed) send(committed.outbox);
        cancelRequested = committed?.job.cancelRequested ?? true;
      } else {
        cancelRequested = (await deps.store.heartbeat(job.id))?.cancelRequested ?? true;
      }
      if (cancelRequested && !stop.signal.aborted) stop.abort(CANCELLED);
    }

    let outcome: WorkOutcome;
    try {
      outcome = await work(job, {
        signal: stop.signal,
        reportProgress: (fraction, message) => (latest = { fraction, message }),
        attempt: ctx.envelope.attempt + 1,
      });
    } catch (error) {
      // Work reports its own failures as outcomes; anything thrown is unexpected, so retry it.
      if (ctx.signal.aborted || stop.signal.aborted) outcome = { type: 'cancelled' };
      else {
        ctx.log.error('job work threw', { jobId: job.id, error });
        outcome = {
          type: 'failed',
          error: { code: 'internal_error', message: errorMessage(error) },
          permanent: false,
        };
      }
    } finally {
      clearTimeout(startTimer);
      ctx.signal.removeEventListener('abort', onShutdown);
    }
    // A start under way decides which change ends the job.
    await starting;
    clearInterval(checks);
    return { outcome, started, refused, startedAt };
  }

  /**
   * Commits how the run ended: from `running` if that committed, else start and end in one
   * change. False when the job could not be changed (the direct change's start guard failed).
   */
  async function finish(
    job: JobRecord,
    run: { outcome: WorkOutcome; started: boolean; startedAt: Date },
    ctx: HandlerContext,
    send: (messages: OutboxMessage[]) => void,
  ): Promise<boolean> {
    const { correlationId, attempt } = ctx.envelope;
    const { outcome } = run;
    const now = new Date();
    const change = (to: JobStatus, patch: JobPatch) =>
      run.started
        ? deps.store.transition(job.id, to, patch, correlationId)
        : deps.store.startAndFinish(
            job.id,
            to,
            { ...patch, startedAt: run.startedAt },
            busyWindowMs,
            correlationId,
          );
    const commitChange = async (to: JobStatus, patch: JobPatch): Promise<boolean> => {
      const committed = await change(to, patch);
      if (committed) {
        send(committed.outbox);
        if (patch.finishedAt) deps.metrics?.finished(job, to, run.startedAt, patch.finishedAt);
      }
      // A change from `running` that fails its guard lost to a cancel or a repair: nothing to do.
      return committed !== undefined || run.started;
    };
    switch (outcome.type) {
      case 'succeeded':
        return commitChange('succeeded', {
          result: outcome.result,
          progress: { fraction: 1, message: null },
          finishedAt: now,
          expiresAt: new Date(now.getTime() + deps.resultTtlMs),
        });
      case 'cancelled':
        if (ctx.signal.aborted) {
          // The consumer is shutting down, not the client cancelling: leave the job running; the message is redelivered.
          throw new AppError('shutting_down', 'consumer is shutting down');
        }
        return commitChange('cancelled', { finishedAt: now });
      case 'failed': {
        // A job's own most attempts, within its kind's (the producer checks; a host whose kind
        // allows fewer since still holds the job to its own).
        const maxAttempts = Math.min(job.maxAttempts ?? deps.maxAttempts, deps.maxAttempts);
        const lastAttempt = outcome.permanent || attempt + 1 >= maxAttempts;
        if (lastAttempt) {
          const committed = await commitChange('failed', {
            error: outcome.error,
            finishedAt: now,
            expiresAt: new Date(now.getTime() + deps.resultTtlMs),
          });
          if (!committed) return false;
          throw new PermanentError(outcome.error.code, outcome.error.message);
        }
        // Back to queued with the error until the retry tier hands the message back.
        if (!(await commitChange('queued', { error: outcome.error }))) return false;
        if (outcome.retryAfterMs !== undefined)
          throw new RetryLaterError(outcome.error.code, outcome.error.message, outcome.retryAfterMs);
        throw new AppError(outcome.error.code, outcome.error.message);
      }
      default: {
        const unknownOutcome: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
      }
    }
  }
}
