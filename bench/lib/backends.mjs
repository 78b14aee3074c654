// The bench's own connections to RabbitMQ and PostgreSQL (probes, purges, publishing, counters).
import { setTimeout as sleep } from 'node:timers/promises';
import { amqp, pg } from './deps.mjs';
import { opsAgent } from './http.mjs';
import { AMQP_URL } from './isolation.mjs';

/**
 * One broker connection with one channel (a confirm channel with `confirm`), and one database
 * client on `databaseUrl`. `close()` ends them and the probe agent, ignoring errors: it runs on
 * the way out, also after a failure.
 */
export async function connectBackends(
  databaseUrl,
  { confirm = false, onChannelError = () => undefined } = {},
) {
  const connection = await amqp.connect(AMQP_URL);
  // A lost connection shows as failed calls; an unhandled 'error' event would end the process first.
  connection.on('error', () => undefined);
  const channel = await (confirm ? connection.createConfirmChannel() : connection.createChannel());
  channel.on('error', onChannelError);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  return {
    connection,
    channel,
    db,
    async close() {
      await db.end().catch(() => undefined);
      await connection.close().catch(() => undefined);
      opsAgent.destroy();
    },
  };
}

/** "RabbitMQ <version>, PostgreSQL <version>", with the database's synchronous_commit if asked: it weighs on every commit. */
export async function versionsLine({ connection, db }, { synchronousCommit = false } = {}) {
  const rabbitVersion = connection.connection?.serverProperties?.version ?? '?';
  const pgVersion = (await db.query('show server_version')).rows[0].server_version;
  if (!synchronousCommit) return `RabbitMQ ${rabbitVersion}, PostgreSQL ${pgVersion}`;
  const syncCommit = (await db.query('show synchronous_commit')).rows[0].synchronous_commit;
  return `RabbitMQ ${rabbitVersion}, PostgreSQL ${pgVersion} (synchronous_commit=${syncCommit})`;
}

/** Messages parked in the dead-letter queue and in the retry tiers of `names`: a clean run leaves none. */
export async function parkedMessages(channel, names) {
  const deadLettered = (await channel.checkQueue(names.deadLetterQueue)).messageCount;
  let retried = 0;
  for (const queue of names.retryQueues) retried += (await channel.checkQueue(queue)).messageCount;
  return { deadLettered, retried };
}

/**
 * PostgreSQL counters: commits of the database, WAL records / bytes / syncs of the cluster, and the
 * rows inserted / updated / deleted per table of `schema`. Subtract two with counterDelta() (stats.mjs);
 * the table statistics lag about a second behind the commits.
 */
export async function pgCounters(db, schema) {
  const [database] = (
    await db.query(
      `select xact_commit::bigint as commits from pg_stat_database where datname = current_database()`,
    )
  ).rows;
  const [wal] = (
    await db.query(
      `select wal_records::bigint as records, wal_bytes::bigint as bytes, wal_sync::bigint as syncs from pg_stat_wal`,
    )
  ).rows;
  const tables = (
    await db.query(
      `select relname, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, n_tup_del::bigint as del
         from pg_stat_user_tables where schemaname = $1`,
      [schema],
    )
  ).rows;
  const rows = {};
  for (const t of tables) rows[t.relname] = { ins: Number(t.ins), upd: Number(t.upd), del: Number(t.del) };
  return {
    commits: Number(database.commits),
    walRecords: Number(wal.records),
    walBytes: Number(wal.bytes),
    walSyncs: Number(wal.syncs),
    rows,
  };
}

/** Waits (≤ `timeoutMs`) until the outbox of `schema` is empty; resolves with the rows left (0 when it emptied). */
export async function waitForEmptyOutbox(db, schema, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(`select count(*)::int as n from "${schema}".outbox`);
    if (rows[0].n === 0 || Date.now() > deadline) return rows[0].n;
    await sleep(100);
  }
}

/** The jobs of `schema` by state: { succeeded, failed (failed or cancelled), other (queued or running) }. */
export async function jobCounts(db, schema) {
  const { rows } = await db.query(
    `select count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status in ('failed', 'cancelled'))::int as failed,
            count(*) filter (where status in ('queued', 'running'))::int as other
       from "${schema}".jobs`,
  );
  return rows[0];
}
