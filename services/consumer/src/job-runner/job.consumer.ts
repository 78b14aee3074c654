import type { HandlerContext } from '@conveyor/broker';
import { isTerminal, type JobError, type JobRunRequested } from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import type { JobRecord, JobStore } from '@conveyor/jobs';
import { AppError, errorMessage, PermanentError, RetryLaterError, sleep } from '@conveyor/platform';

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
}

const CANCELLED = 'cancelled by the client';
/** Past the busy window, so the runner's last heartbeat is certainly older than it. */
const BUSY_WAIT_MARGIN_MS = 50;

/**
 * Runs jobs of one kind from their work messages. The job row is the truth: a message for a
 * finished job republishes its final event and is acked without running anything again; a job
 * found running whose runner has stopped heartbeating (its consumer died) runs again. Progress
 * (or a heartbeat) is written every `checkIntervalMs`, and the same write reads the cancel
 * flag, so a cancelled job stops at its next check.
 *
 * A job's events are published in the order they committed, but nothing waits for their
 * confirms: the work starts as soon as `running` has committed, and the message is acked as soon
 * as the final state has. Every event's outbox row committed with its change, so an event whose
 * publish fails, or whose process dies first, is sent by the outbox relay; waiting for the
 * broker here would only hold a prefetch slot (Little's law: slots / time held = jobs per second).
 */
export function jobHandler(deps: JobConsumerDeps, work: JobWork) {
  // A running job heartbeats every check interval; one silent for several intervals has no runner.
  const busyWindowMs = deps.checkIntervalMs * 4;
  return (message: JobRunRequested, ctx: HandlerContext): Promise<void> => runJob(message, ctx, true);

  /**
   * Tries to start the job straight away (one statement; the common case); only when that is
   * refused does it read the row to find out why.
   */
  async function runJob(message: JobRunRequested, ctx: HandlerContext, mayTryAgain: boolean): Promise<void> {
    const started = await deps.store.start(message.jobId, busyWindowMs, ctx.envelope.correlationId);
    if (!started) return notStarted(message, ctx, mayTryAgain);
    const send = inOrder();
    send(started.outbox);

    const outcome = await runWithChecks(started.job, ctx, send);
    await finish(started.job, outcome, ctx, send);
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
    message: JobRunRequested,
    ctx: HandlerContext,
    mayTryAgain: boolean,
  ): Promise<void> {
    const { correlationId } = ctx.envelope;
    const job = await deps.store.get(message.jobId);
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

  async function runWithChecks(
    job: JobRecord,
    ctx: HandlerContext,
    send: (messages: OutboxMessage[]) => void,
  ): Promise<WorkOutcome> {
    const stop = new AbortController();
    const onShutdown = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onShutdown, { once: true });
    let latest: { fraction: number; message: string } | undefined;
    let reported: typeof latest;
    const timer = setInterval(() => {
      void check().catch((error: unknown) =>
        ctx.log.warn('progress check failed', { jobId: job.id, error: errorMessage(error) }),
      );
    }, deps.checkIntervalMs);

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

    try {
      return await work(job, {
        signal: stop.signal,
        reportProgress: (fraction, message) => (latest = { fraction, message }),
        attempt: ctx.envelope.attempt + 1,
      });
    } catch (error) {
      // Work reports its own failures as outcomes; anything thrown is unexpected, so retry it.
      if (ctx.signal.aborted) return { type: 'cancelled' };
      ctx.log.error('job work threw', { jobId: job.id, error });
      return {
        type: 'failed',
        error: { code: 'internal_error', message: errorMessage(error) },
        permanent: false,
      };
    } finally {
      clearInterval(timer);
      ctx.signal.removeEventListener('abort', onShutdown);
    }
  }

  async function finish(
    job: JobRecord,
    outcome: WorkOutcome,
    ctx: HandlerContext,
    send: (messages: OutboxMessage[]) => void,
  ): Promise<void> {
    const { correlationId, attempt } = ctx.envelope;
    const now = new Date();
    switch (outcome.type) {
      case 'succeeded':
        await commit(
          deps.store.transition(
            job.id,
            'succeeded',
            {
              result: outcome.result,
              progress: { fraction: 1, message: null },
              finishedAt: now,
              expiresAt: new Date(now.getTime() + deps.resultTtlMs),
            },
            correlationId,
          ),
          send,
        );
        return;
      case 'cancelled':
        if (ctx.signal.aborted) {
          // The consumer is shutting down, not the client cancelling: leave the job running; the message is redelivered.
          throw new AppError('shutting_down', 'consumer is shutting down');
        }
        await commit(deps.store.transition(job.id, 'cancelled', { finishedAt: now }, correlationId), send);
        return;
      case 'failed': {
        const lastAttempt = outcome.permanent || attempt + 1 >= deps.maxAttempts;
        if (lastAttempt) {
          await commit(
            deps.store.transition(
              job.id,
              'failed',
              {
                error: outcome.error,
                finishedAt: now,
                expiresAt: new Date(now.getTime() + deps.resultTtlMs),
              },
              correlationId,
            ),
            send,
          );
          throw new PermanentError(outcome.error.code, outcome.error.message);
        }
        // Back to queued with the error until the retry tier hands the message back.
        await commit(deps.store.transition(job.id, 'queued', { error: outcome.error }, correlationId), send);
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
