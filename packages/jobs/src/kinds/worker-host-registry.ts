import { sql, type Database, type Kysely, type Selectable, type WorkerHostsTable } from '@conveyor/database';

export interface WorkerHost {
  id: string;
  hostname: string;
  pid: number;
  kinds: string[];
  inFlight: number;
  startedAt: Date;
  lastHeartbeatAt: Date;
}

/**
 * The live worker hosts: each upserts its row on start and on every heartbeat, and deletes it
 * on a clean stop. A host killed without stopping leaves a row whose heartbeat ages; readers
 * judge liveness by that age, not by the row's presence.
 */
export class WorkerHostRegistry {
  constructor(private readonly db: Kysely<Database>) {}

  async heartbeat(host: Omit<WorkerHost, 'startedAt' | 'lastHeartbeatAt'>): Promise<void> {
    const row = { hostname: host.hostname, pid: host.pid, kinds: host.kinds, in_flight: host.inFlight };
    await this.db
      .insertInto('worker_hosts')
      .values({ id: host.id, ...row })
      .onConflict((conflict) => conflict.column('id').doUpdateSet({ ...row, last_heartbeat_at: sql`now()` }))
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('worker_hosts').where('id', '=', id).execute();
  }

  /** Every registered host, oldest first, each judged alive by its heartbeat's age (the database's clock). */
  async list(aliveWithinMs: number): Promise<(WorkerHost & { alive: boolean })[]> {
    const rows = await this.db
      .selectFrom('worker_hosts')
      .selectAll()
      .select(
        sql<boolean>`last_heartbeat_at > now() - make_interval(secs => ${aliveWithinMs / 1000})`.as('alive'),
      )
      .orderBy('started_at')
      .execute();
    return rows.map((row) => ({ ...toWorkerHost(row), alive: row.alive }));
  }

  /** Hosts whose last heartbeat is younger than `maxAgeMs`. */
  async alive(maxAgeMs: number): Promise<WorkerHost[]> {
    const rows = await this.db
      .selectFrom('worker_hosts')
      .selectAll()
      .where('last_heartbeat_at', '>', sql<Date>`now() - make_interval(secs => ${maxAgeMs / 1000})`)
      .orderBy('started_at')
      .execute();
    return rows.map(toWorkerHost);
  }
}

function toWorkerHost(row: Selectable<WorkerHostsTable>): WorkerHost {
  return {
    id: row.id,
    hostname: row.hostname,
    pid: row.pid,
    kinds: row.kinds,
    inFlight: row.in_flight,
    startedAt: row.started_at,
    lastHeartbeatAt: row.last_heartbeat_at,
  };
}
