import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { topologyNames, type JobEvent } from '@conveyor/contracts';
import { jobEventMessage } from '@conveyor/jobs';
import { BrokerProbe, ServiceProcess, TEST_AMQP_URL, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createIsolatedEnv, WEBHOOK_SECRET, type IsolatedEnv } from '../harness.js';
import { Receiver, verifySignature } from './receiver.js';

/**
 * Job events are recorded in batches (one transaction each) and acked only once their batch has
 * committed: a notifier killed while a batch waits loses nothing, and the events of a job still
 * go out once each, in order.
 */
describe('notifier recording events in batches', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let locker: pg.Client;
  let broker: ChannelModel;
  let channel: ConfirmChannel;
  let probe: BrokerProbe;
  const receiver = new Receiver();
  const notifiers: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('notifbatch');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${isolated.schema}` });
    locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    await locker.connect();
    broker = await amqp.connect(TEST_AMQP_URL);
    channel = await broker.createConfirmChannel();
    probe = await BrokerProbe.open();
    await receiver.start();
  });

  afterAll(async () => {
    for (const n of notifiers) await n.kill9();
    await channel.close();
    await broker.close();
    await probe.close();
    await db.end();
    await locker.end();
    await receiver.stop();
    await isolated.dispose();
  });

  const startNotifier = async () => {
    const n = ServiceProcess.start('notifier', {
      ...isolated.env,
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      DISPATCH_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1500',
    });
    notifiers.push(n);
    await n.waitForLog(/notifier started/);
    return n;
  };

  async function newJob(): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into jobs (id, client_id, kind, request_hash, input, status, callback_url) values (gen_random_uuid(), 'default', 'factorize', 'h', '{"number":"6"}', 'running', $1) returning id`,
      [receiver.url],
    );
    return rows[0]!.id;
  }

  async function publish(jobId: string, sequence: number): Promise<string> {
    const event: JobEvent = {
      eventId: randomUUID(),
      jobId,
      clientId: 'default',
      kind: 'factorize',
      customId: null,
      status: 'running',
      sequence,
      progress: { fraction: sequence / 10, message: null },
      result: null,
      error: null,
      callbackUrl: receiver.url,
      occurredAt: new Date().toISOString(),
    };
    const message = jobEventMessage(topologyNames(isolated.prefix), event, randomUUID());
    channel.publish(message.exchange, message.routingKey, message.body, {
      persistent: true,
      messageId: message.messageId,
      type: message.type,
    });
    await channel.waitForConfirms();
    return event.eventId;
  }

  const rowsFor = async (jobId: string) =>
    (
      await db.query(`select sequence, status from webhook_deliveries where job_id = $1 order by sequence`, [
        jobId,
      ])
    ).rows;

  it('acks an event only after its delivery row commits: killed while the batch waits, it loses nothing', async () => {
    const first = await startNotifier();
    const job = await newJob();
    const others = [await newJob(), await newJob()];
    // Another session holds the job's recording lock: the batch holding its events waits on it.
    await locker.query(`select pg_advisory_lock(hashtext($1))`, [`webhook-job:${job}`]);
    for (const sequence of [1, 2, 3]) await publish(job, sequence);
    for (const other of others) await publish(other, 1);
    await waitFor('a batch waiting for the job lock', async () => {
      const { rows } = await db.query(
        `select 1 from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and query like '%record_webhook_events%'`,
      );
      return rows.length > 0;
    });
    await first.kill9();

    // Nothing of the waiting batch committed, and its events are back in the queue, unacked.
    expect(await rowsFor(job)).toEqual([]);
    const queue = topologyNames(isolated.prefix).jobEventsQueue;
    await waitFor('events back in the queue', async () => (await probe.queue(queue)).ready >= 3);
    // The killed notifier's backend still waits for the lock: once it has it, it may commit that
    // batch for a client that is gone (rows leased to a dead process, sent again when the lease
    // runs out, about 4 s here) or roll it back; the redelivered events are recorded idempotently.
    await locker.query(`select pg_advisory_unlock_all()`);

    await startNotifier();
    await waitFor('all three statuses delivered', () => receiver.forJob(job).length >= 3, {
      timeoutMs: 20_000,
    });
    await waitFor('the other jobs delivered', () => others.every((o) => receiver.forJob(o).length >= 1));
    const got = receiver.forJob(job);
    expect(got.map((w) => w.payload.sequence)).toEqual([1, 2, 3]);
    expect(new Set(got.map((w) => w.id)).size).toBe(3);
    for (const w of got)
      expect(verifySignature(WEBHOOK_SECRET, w.id, w.timestamp, w.body, w.signatures.join(' '))).toBe(true);
    // Attempts are logged in batches, a moment after the webhook went out.
    await waitFor('every delivery logged', async () => {
      const rows = await rowsFor(job);
      return rows.length === 3 && rows.every((r) => r.status === 'delivered');
    });
    expect((await rowsFor(job)).map((r) => r.sequence)).toEqual([1, 2, 3]);
    const attempts = await db.query(
      `select count(*)::int as n from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.job_id = $1`,
      [job],
    );
    expect(attempts.rows[0].n).toBe(3);
  });

  it('sends a burst of statuses of many jobs each once and in order per job', async () => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => newJob()));
    // Interleaved, as a busy pipeline publishes them; every job's statuses in order.
    for (const sequence of [1, 2, 3, 4]) for (const job of jobs) await publish(job, sequence);
    await waitFor('every status delivered', () => jobs.every((job) => receiver.forJob(job).length >= 4), {
      timeoutMs: 20_000,
    });
    for (const job of jobs) expect(receiver.forJob(job).map((w) => w.payload.sequence)).toEqual([1, 2, 3, 4]);
  });
});
