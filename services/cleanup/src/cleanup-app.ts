import type { ConsumerHandle } from '@conveyor/broker';
import { DeadLetterStore, JobStore, recoverExpiredDispatchers } from '@conveyor/jobs';
import { waitAtMost, type Logger } from '@conveyor/platform';
import { ServiceCore } from '@conveyor/runtime';
import client from 'prom-client';
import { deleteStaleObjects } from './stale-objects/stale-object.repository.js';
import type { CleanupConfig } from './config.js';
import { PeriodicRoutine, untilExhausted } from './periodic-routine.js';
import { expireResultsBatch } from './result-expiry/result-expiry.js';
import { pruneOnce } from './retention/retention.js';
import { openBlobStore, storeSettingsFrom } from '@conveyor/storage';
import { registerBacklogGauges } from './backlog/backlog.gauges.js';
import { countBacklogs } from './backlog/backlog.repository.js';
import { startDeadLetterIntake } from './dead-letters/dead-letter-intake.js';
import { schedulingRoutines } from './scheduling/scheduling.routines.js';
import type { OutboxRelay } from '@conveyor/database';

const JOB_BATCH = 500;
const BROKER_START_GRACE_MS = 5_000;

/**
 * The TTL routines: stale objects go, expired results are dropped, and jobs nobody is working
 * on any more are handed back to the queue.
 */
export class CleanupApp {
  private readonly core: ServiceCore;
  private readonly routines: PeriodicRoutine[];
  /** Delayed jobs and schedules: they publish, so they start once the broker had its chance. */
  private readonly timeRoutines: PeriodicRoutine[];
  /** Sends the work messages of jobs the scheduling routines queue (see scheduling/). */
  private readonly relay: OutboxRelay;
  private deadLetterIntake: ConsumerHandle | undefined;
  private readonly deadLettersStored: client.Counter;

  constructor(
    private readonly config: CleanupConfig,
    private readonly log: Logger,
  ) {
    // The broker connection consumes the dead-letter queue (see startDeadLetterIntake) and publishes
    // the work messages of the jobs the scheduling routines queue.
    this.core = new ServiceCore('cleanup', config, log, { kinds: [] });
    const counter = (name: string, help: string) =>
      new client.Counter({ name, help, registers: [this.core.metrics.registry] });
    const staleDeleted = counter(
      'conveyor_stale_objects_deleted_total',
      'Objects deleted by the TTL routine',
    );
    const resultsExpired = counter(
      'conveyor_job_results_expired_total',
      'Job results dropped after their retention',
    );
    const jobsRequeued = counter(
      'conveyor_stuck_jobs_requeued_total',
      'Unfinished jobs without a runner handed back to the queue',
    );
    const retentionDeleted = new client.Counter({
      name: 'conveyor_retention_deleted_total',
      help: 'Rows deleted by retention, by table',
      labelNames: ['table'],
      registers: [this.core.metrics.registry],
    });
    this.deadLettersStored = counter(
      'conveyor_dead_letters_stored_total',
      'Messages moved from the dead-letter queue into PostgreSQL',
    );
    const db = this.core.database.db;
    const store = new JobStore(db, this.core.names, { events: config.JOB_EVENTS });
    const images = openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config));
    // Here, not in the producers or consumers: every deployment runs a cleanup, in fewer replicas,
    // and a scrape's queries stay off the job and callback paths.
    registerBacklogGauges(this.core.metrics.registry, {
      counts: (cap) => countBacklogs(db, cap),
      // Those still in the queue (the intake is behind, or the broker was away) count too.
      deadLetters: async () =>
        (await this.core.broker.inspectQueues([this.core.names.deadLetterQueue])).get(
          this.core.names.deadLetterQueue,
        )?.messages ?? 0,
      log,
    });

    this.relay = this.core.outboxRelay({ pollMs: 500, batchSize: 500, minAgeMs: 2_000 });
    this.timeRoutines = schedulingRoutines(config, {
      db,
      names: this.core.names,
      sendNow: (messages) => this.relay.sendNow(messages),
      registry: this.core.metrics.registry,
      log,
    });
    this.routines = [
      new PeriodicRoutine(
        'object-ttl',
        config.ROUTINE_INTERVAL_MS,
        async (signal) => {
          const startedAt = Date.now();
          const deleted = await untilExhausted(
            () => deleteStaleObjects(db, config.OBJECT_TTL_MS, config.CLEANUP_BATCH_SIZE),
            config.CLEANUP_BATCH_SIZE,
            signal,
          );
          staleDeleted.inc(deleted);
          if (deleted > 0) log.info('stale objects deleted', { deleted, ms: Date.now() - startedAt });
        },
        log,
      ),
      new PeriodicRoutine(
        'result-expiry',
        config.JOB_ROUTINE_INTERVAL_MS,
        async (signal) => {
          const expired = await untilExhausted(
            () => expireResultsBatch(db, images, JOB_BATCH),
            JOB_BATCH,
            signal,
          );
          resultsExpired.inc(expired);
          if (expired > 0) log.info('job results expired', { expired });
        },
        log,
      ),
      new PeriodicRoutine(
        'stuck-jobs',
        config.JOB_ROUTINE_INTERVAL_MS,
        async () => {
          // Producers recover each other's work messages; this covers the time none is running.
          const recovered = await recoverExpiredDispatchers(db, this.core.names);
          if (recovered.dispatchers > 0)
            log.warn('re-sent the unconfirmed jobs of producers whose dispatch lease ran out', recovered);
          const requeued = await store.reenqueueStale(config.STUCK_JOB_AFTER_MS, JOB_BATCH, 'cleanup');
          jobsRequeued.inc(requeued.length);
          for (const job of requeued)
            log.warn('stuck job handed back to the queue', {
              jobId: job.id,
              status: job.status,
              attempts: job.attempts,
            });
        },
        log,
      ),
      new PeriodicRoutine(
        'retention',
        config.RETENTION_INTERVAL_MS,
        async (signal) => {
          const startedAt = Date.now();
          const deleted = await pruneOnce(
            db,
            images,
            {
              jobsMs: config.JOB_RETENTION_MS,
              jobEventsMs: config.JOB_EVENT_RETENTION_MS,
              webhookDeliveriesMs: config.WEBHOOK_DELIVERY_RETENTION_MS,
              webhookAttemptsMs: config.WEBHOOK_ATTEMPT_RETENTION_MS,
              batchSize: config.RETENTION_BATCH_SIZE,
              batchPauseMs: config.RETENTION_BATCH_PAUSE_MS,
            },
            signal,
            log,
          );
          for (const [table, count] of Object.entries(deleted))
            if (count > 0) retentionDeleted.inc({ table }, count);
          if (Object.values(deleted).some((count) => count > 0))
            log.info('retention pruned', { ...deleted, ms: Date.now() - startedAt });
        },
        log,
      ),
    ];
  }

  get opsPort(): number {
    return this.core.port;
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await this.core.migrate();
    for (const routine of this.routines) routine.start();
    this.deadLetterIntake = startDeadLetterIntake({
      broker: this.core.broker,
      names: this.core.names,
      store: new DeadLetterStore(this.core.database.db),
      log,
      onStored: () => this.deadLettersStored.inc(),
    });
    // The routines need only PostgreSQL: a broker that is down delays the intake, not them.
    await waitAtMost(this.core.broker.start(), BROKER_START_GRACE_MS);
    this.relay.start();
    // Jobs queued before the broker is up would wait for the relay's poll (seconds late).
    for (const routine of this.timeRoutines) routine.start();
    await this.core.serve(config.OPS_PORT);
    log.info('cleanup started', {
      opsPort: this.opsPort,
      intervalMs: config.ROUTINE_INTERVAL_MS,
      ttlMs: config.OBJECT_TTL_MS,
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.timeRoutines, ...this.routines].map((r) => r.stop()));
    await this.deadLetterIntake?.cancel();
    await this.relay.stop();
    await this.core.close();
  }
}
