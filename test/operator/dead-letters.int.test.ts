import http from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import pg from 'pg';
import { ServiceProcess, TEST_AMQP_URL, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { topologyNames } from '@conveyor/contracts';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

/**
 * Dead letters caused for real: a job whose worker hosts are killed -9 past the delivery limit,
 * an object check the handler dead-letters (the object-status API says 404), messages the
 * handler refuses (not JSON). The cleanup moves them into PostgreSQL; operators list, read,
 * redrive (by id, kind, all) and purge them, and a redriven message does its work.
 */
describe('dead letters', () => {
  let isolated: IsolatedEnv;
  let env: Record<string, string>;
  let port: number;
  let db: pg.Client;
  let objectsApi: http.Server;
  /** Object ids the fake object-status API knows (online); others are a 404. */
  const knownObjects = new Set<number>();
  const apps: { stop(): Promise<void> }[] = [];
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('opdeadletters');
    objectsApi = http.createServer((req, res) => {
      const id = Number(/\/objects\/(\d+)/.exec(req.url ?? '')?.[1]);
      if (!knownObjects.has(id)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, online: true }));
    });
    await new Promise<void>((resolve) => objectsApi.listen(0, '127.0.0.1', resolve));
    env = {
      ...isolated.env,
      DELIVERY_LIMIT: '1',
      JOB_CHECK_INTERVAL_MS: '100',
      OBJECTS_API_URL: `http://127.0.0.1:${(objectsApi.address() as AddressInfo).port}`,
      RETRY_DELAYS_MS: '100',
    };
    const producer = producerApp(env);
    await producer.start();
    apps.push(producer);
    port = producer.port;
    const cleanup = cleanupApp(env);
    await cleanup.start();
    apps.push(cleanup);
    const objectChecks = consumerApp({ ...env, BUILT_IN_KINDS: 'object-check' });
    await objectChecks.start();
    apps.push(objectChecks);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    for (const app of apps.reverse()) await app.stop();
    await db.end();
    await new Promise((resolve) => objectsApi.close(resolve));
    await isolated.dispose();
  });

  const names = () => topologyNames(isolated.prefix);
  const deadLetters = async (query = '') => (await request(port, 'GET', `/v1/dead-letters${query}`)).body;
  const letterFor = (
    query: string,
    match: (letter: { jobId: string | null; reason: { code: string } }) => boolean,
  ) =>
    waitFor(`a dead letter ${query}`, async () => (await deadLetters(query)).deadLetters.find(match), {
      timeoutMs: 20_000,
    });
  const jobRow = async (id: string) =>
    (await db.query(`select status, attempts from "${isolated.schema}".jobs where id = $1`, [id]))
      .rows[0] as {
      status: string;
      attempts: number;
    };
  /** Publishes raw bodies to a queue, as a broken producer would. */
  const publishRaw = async (queue: string, bodies: string[]) => {
    const connection = await amqp.connect(TEST_AMQP_URL);
    const channel = await connection.createConfirmChannel();
    for (const [index, body] of bodies.entries())
      channel.sendToQueue(queue, Buffer.from(body), {
        persistent: true,
        messageId: `raw-${queue}-${index}-${Date.now()}`,
      });
    await channel.waitForConfirms();
    await connection.close();
  };

  it('a job whose worker hosts are killed past the delivery limit is dead-lettered, stays running, and runs to success once redriven', async () => {
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: SLOW_SEMIPRIME.n },
    });
    type Letter = { id: string; jobId: string | null; reason: { code: string }; attempts: number };
    const letterOfJob = async (): Promise<Letter | undefined> =>
      (await deadLetters('?kind=factorize')).deadLetters.find((l: Letter) => l.jobId === job.id);
    let letter: Letter | undefined;
    // Each host runs the job until it is `running`, then dies; once the broker has seen the
    // delivery limit go by, the next host gets nothing and the dead letter shows up instead.
    for (let kill = 1; kill <= 4 && !letter; kill++) {
      const host = ServiceProcess.start('consumer', {
        ...env,
        LOG_LEVEL: 'info',
        OPS_PORT: '0',
        BUILT_IN_KINDS: 'factorize',
      });
      processes.push(host);
      await host.waitForLog(/consumer started/);
      await waitFor(
        `attempt ${kill} running, or the dead letter`,
        async () => {
          letter = await letterOfJob();
          const row = await jobRow(job.id);
          return letter !== undefined || (row.status === 'running' && row.attempts === kill);
        },
        { timeoutMs: 20_000 },
      );
      await host.kill9();
    }
    expect(letter).toMatchObject({ jobId: job.id, reason: { code: 'delivery_limit' }, kind: 'factorize' });
    expect(letter!.attempts).toBeGreaterThanOrEqual(1);
    // The broker gave up on the message, not the job: it is still `running` (the stuck-job repair
    // would hand it back only after STUCK_JOB_AFTER_MS).
    expect((await jobRow(job.id)).status).toBe('running');
    const detail = await request(port, 'GET', `/v1/dead-letters/${letter!.id}`);
    expect(detail.body).toMatchObject({
      id: letter!.id,
      body: { kind: 'job.factorize', payload: { jobId: job.id } },
    });
    expect(detail.body.headers['x-death']).toBeDefined();

    const runner = consumerApp({ ...env, BUILT_IN_KINDS: 'factorize' });
    await runner.start();
    apps.push(runner);
    const redriven = await request(port, 'POST', `/v1/dead-letters/${letter!.id}/redrive`);
    expect(redriven).toMatchObject({ status: 200, body: { redriven: 1 } });
    await waitFor('succeeded after the redrive', async () => (await jobRow(job.id)).status === 'succeeded', {
      timeoutMs: 40_000,
    });
    expect((await request(port, 'GET', `/v1/dead-letters/${letter!.id}`)).status).toBe(404);
    expect((await request(port, 'POST', `/v1/dead-letters/${letter!.id}/redrive`)).status).toBe(404);
    const { body: done } = await request(port, 'GET', `/v1/jobs/${job.id}`);
    expect(done.result.factors).toEqual(SLOW_SEMIPRIME.factors);
  }, 120_000);

  it('an object check the handler dead-letters (404 upstream) is redriven by kind and stored once the object exists', async () => {
    await request(port, 'POST', '/callback', { object_ids: [4242] });
    const letter = await letterFor('?kind=object-check', (l) => l.reason.code === 'object_not_found');
    expect(letter).toMatchObject({
      kind: 'object-check',
      jobId: null,
      queue: names().workQueue('object.check'),
    });
    knownObjects.add(4242);
    const redriven = await request(port, 'POST', '/v1/dead-letters/redrive', { kind: 'object-check' });
    expect(redriven.body.redriven).toBeGreaterThanOrEqual(1);
    await waitFor('object stored', async () => {
      const { rows } = await db.query(`select 1 from "${isolated.schema}".objects where id = 4242`);
      return rows.length === 1;
    });
  });

  it('lists with a filter, a cursor and a total; redrives all; purges by ids and all', async () => {
    await publishRaw(names().workQueue('object.check'), ['not json', '{"kind":"object.check"}']);
    await publishRaw(names().workQueue('job.factorize'), ['not json either', '{}', '[]']);
    await waitFor('five refused messages stored', async () => (await deadLetters()).total >= 5, {
      timeoutMs: 20_000,
    });
    const checks = await deadLetters('?kind=object-check');
    expect(checks.total).toBe(2);
    expect(
      checks.deadLetters.every((l: { reason: { code: string } }) => l.reason.code === 'invalid_message'),
    ).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        deadLetters: { id: string; deadLetteredAt: string }[];
        nextCursor: string | null;
        total: number;
      } = await deadLetters(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.deadLetters.length).toBeLessThanOrEqual(2);
      expect(page.total).toBe(5);
      seen.push(...page.deadLetters.map((l) => l.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(5);

    const raw = (await deadLetters('?kind=object-check')).deadLetters.find(
      (l: { id: string }) => l.id !== undefined,
    ) as { id: string };
    const detail = await request(port, 'GET', `/v1/dead-letters/${raw.id}`);
    expect(['not json', { kind: 'object.check' }]).toContainEqual(detail.body.body);
    expect(detail.body.headers['x-error-code']).toBe('invalid_message');

    // Redriven, they are refused again and come back: nothing is lost on the way.
    const all = await request(port, 'POST', '/v1/dead-letters/redrive', { all: true });
    expect(all.body.redriven).toBe(5);
    await waitFor('all five back', async () => (await deadLetters()).total === 5, { timeoutMs: 20_000 });

    const purgedOne = await request(port, 'POST', '/v1/dead-letters/purge', {
      ids: [(await deadLetters()).deadLetters[0].id],
    });
    expect(purgedOne.body).toEqual({ purged: 1 });
    const purgedAll = await request(port, 'POST', '/v1/dead-letters/purge', { all: true });
    expect(purgedAll.body).toEqual({ purged: 4 });
    expect((await deadLetters()).total).toBe(0);
    const overview = await request(port, 'GET', '/v1/overview');
    expect(overview.body.deadLetters).toBe(0);
  });
});
