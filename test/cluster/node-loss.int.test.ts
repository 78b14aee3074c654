import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, RabbitCluster, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { startObjectsApi, type ObjectsApi } from '../../services/tester/src/objects-api.js';
import {
  consumerApp,
  createIsolatedEnv,
  notifierApp,
  postCallback,
  producerApp,
  request,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { Receiver } from '../webhooks/receiver.js';

/**
 * A 3-node RabbitMQ cluster of the test's own (the machine's broker is never touched), every
 * service given all three nodes in AMQP_URL. Under load (callbacks of 200 ids, jobs with
 * webhooks), the node leading the work queues is killed -9, brought back, then a follower is
 * killed: every accepted id and job is processed, no request gets a 5xx while the database is
 * up, and the services carry on against the surviving nodes by themselves.
 */
describe('a RabbitMQ cluster losing nodes under load', () => {
  let cluster: RabbitCluster;
  let isolated: IsolatedEnv;
  let upstream: ObjectsApi;
  let receiver: Receiver;
  let db: pg.Client;
  const apps: { start(): Promise<void>; stop(): Promise<void> }[] = [];
  let port: number;

  beforeAll(async () => {
    cluster = await RabbitCluster.start(3, 'nodeloss');
    isolated = await createIsolatedEnv('nodeloss');
    upstream = await startObjectsApi({ port: 0, host: '127.0.0.1', minDelayMs: 5, maxDelayMs: 30 });
    receiver = await new Receiver().start();
    const env = {
      ...isolated.env,
      AMQP_URL: cluster.amqpUrl,
      OBJECTS_API_URL: `http://127.0.0.1:${upstream.port}`,
      OUTBOX_POLL_MS: '100',
      // A check that fails while the machine is loaded (the suite runs beside) retries soon.
      RETRY_DELAYS_MS: '200,1000,2000',
      MAX_ATTEMPTS: '10',
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_RETRY_SCHEDULE_MS: '200,500,1000',
      DISPATCH_POLL_MS: '50',
    };
    const producer = producerApp(env);
    apps.push(producer, consumerApp(env), notifierApp(env));
    for (const app of apps) await app.start();
    port = producer.port;
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop().catch(() => undefined);
    await db?.end();
    await receiver?.stop();
    await upstream?.close();
    await isolated?.dispose();
    await cluster?.dispose();
  }, 120_000);

  const count = async (sql: string) => (await db.query(sql)).rows[0].n as number;
  /** What a timeout should tell: the object checks waiting in the queues of a node still up. */
  const whereTheRestAre = async (names: ReturnType<typeof topologyNames>) => {
    const node = cluster.nodes.find((n) => n.pid !== undefined);
    if (!node) return 'no node up';
    const probe = await BrokerProbe.open(node.url);
    try {
      const queues = [
        names.workQueue('object.check'),
        names.deadLetterQueue,
        ...[200, 1000, 2000].map((ms) => names.retryQueue(ms)),
      ];
      const depths = await Promise.all(
        queues.map(
          async (queue) => `${queue} ${(await probe.queue(queue).catch(() => ({ ready: NaN }))).ready}`,
        ),
      );
      return `ready: ${depths.join(', ')}`;
    } finally {
      await probe.close();
    }
  };

  it('processes every accepted id and job through a leader kill and a follower kill, with no 5xx', async () => {
    const names = topologyNames(isolated.prefix);
    const statuses: number[] = [];
    let nextId = 0;
    const jobIds: string[] = [];
    let loading = true;
    const callbacks = (async () => {
      while (loading) {
        // Even ids are online at the simulator: each accepted one ends as a row.
        const ids = Array.from({ length: 200 }, () => (nextId += 2));
        const { status } = await postCallback(port, { object_ids: ids });
        statuses.push(status);
        if (status !== 200) nextId -= 400; // refused: not accepted, not expected
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const jobs = (async () => {
      while (loading) {
        const { status, body } = await request(port, 'POST', '/v1/jobs', {
          kind: 'factorize',
          input: { number: String(1_000 + jobIds.length) },
          callbackUrl: receiver.url,
        });
        statuses.push(status);
        if (status === 202) jobIds.push(body.id);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const workQueue = names.workQueue('object.check');
    const settle = () => new Promise((r) => setTimeout(r, 2_000));

    await settle();
    const leader = await cluster.leaderOf(workQueue);
    if (!leader) throw new Error(`no leader found for ${workQueue}`);
    await cluster.kill(leader);
    await settle();
    await settle();
    await cluster.restart(leader);
    await settle();
    const newLeader = await cluster.leaderOf(workQueue);
    const follower = cluster.nodes.find((node) => node !== newLeader && node.pid !== undefined)!;
    await cluster.kill(follower);
    await settle();
    loading = false;
    await Promise.all([callbacks, jobs]);

    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(jobIds.length).toBeGreaterThan(50);
    // The probes throw what they see, so a timeout says how far it got.
    await waitFor(
      'every accepted id stored',
      async () => {
        const stored = await count(`select count(*)::int as n from "${isolated.schema}".objects`);
        if (stored !== nextId / 2)
          throw new Error(`${stored} of ${nextId / 2} ids stored; ${await whereTheRestAre(names)}`);
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await waitFor(
      'every accepted job succeeded',
      async () => {
        const { rows } = await db.query(
          `select status, count(*)::int as n from "${isolated.schema}".jobs group by status`,
        );
        const succeeded = rows.find((row) => row.status === 'succeeded')?.n ?? 0;
        if (succeeded !== jobIds.length) throw new Error(`${JSON.stringify(rows)} of ${jobIds.length} jobs`);
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await waitFor(
      'every job’s final push received',
      () => jobIds.every((id) => receiver.forJob(id).some((w) => w.payload.status === 'succeeded')),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    for (const id of jobIds) {
      const sequences = receiver.forJob(id).map((w) => w.payload.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
  }, 420_000);
});
