import type { Server } from 'node:http';
import { createDatabase, migrateToLatest, type DatabaseHandle } from '@conveyor/database';
import { boundPort, closeServer, createMetrics, listen, opsApp, retryUntilSuccess, type Logger, type Metrics } from '@conveyor/platform';
import client from 'prom-client';
import { deleteStaleObjects } from './adapters/stale-object.repository.js';
import type { CleanupConfig } from './config.js';
import { ObjectTtlRoutine } from './routines/object-ttl.routine.js';

/** The TTL routines: stale objects now; expired results and stuck jobs join later. */
export class CleanupApp {
  private readonly metrics: Metrics;
  private readonly database: DatabaseHandle;
  private readonly objectTtl: ObjectTtlRoutine;
  private server: Server | undefined;

  constructor(
    private readonly config: CleanupConfig,
    private readonly log: Logger,
  ) {
    this.metrics = createMetrics('cleanup');
    this.database = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolMax: config.DATABASE_POOL_MAX, log });
    const deleted = new client.Counter({ name: 'conveyor_stale_objects_deleted_total', help: 'Objects deleted by the TTL routine', registers: [this.metrics.registry] });
    this.objectTtl = new ObjectTtlRoutine(
      (ttlMs, limit) => deleteStaleObjects(this.database.db, ttlMs, limit),
      log,
      { intervalMs: config.ROUTINE_INTERVAL_MS, ttlMs: config.OBJECT_TTL_MS, batchSize: config.CLEANUP_BATCH_SIZE },
      (n) => deleted.inc(n),
    );
  }

  get opsPort(): number {
    if (!this.server) throw new Error('cleanup is not listening');
    return boundPort(this.server);
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await retryUntilSuccess('database migration', () => migrateToLatest(this.database.db, config.DATABASE_SCHEMA, log), { log });
    this.objectTtl.start();
    this.server = await listen(opsApp(this.metrics, [{ name: 'database', check: () => this.database.ping() }]), config.OPS_PORT);
    log.info('cleanup started', { opsPort: this.opsPort, intervalMs: config.ROUTINE_INTERVAL_MS, ttlMs: config.OBJECT_TTL_MS });
  }

  async stop(): Promise<void> {
    await this.objectTtl.stop();
    if (this.server) await closeServer(this.server);
    await this.database.close();
    this.metrics.stop();
  }
}
