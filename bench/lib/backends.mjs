// The bench's own connections to RabbitMQ and PostgreSQL (probes, purges, publishing, counters).
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
