import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, HttpStub, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import {
  createIsolatedEnv,
  postCallback,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';

/**
 * An upstream that fails in every way: 500s, hangs past the timeout, bad JSON, 404. Transient
 * failures are retried through the delay tiers and then dead-lettered with their reason; a 404 is
 * dead-lettered at once; an id that recovers is stored.
 */
describe('upstream failures', () => {
  let isolated: IsolatedEnv;
  let stub: HttpStub;
  let probe: BrokerProbe;
  let db: pg.Client;
  let services: Services;
  const calls = new Map<number, number>();

  beforeAll(async () => {
    isolated = await createIsolatedEnv('upstream');
    stub = await HttpStub.start(async (req, res) => {
      const id = Number(req.url?.split('/').pop());
      const n = (calls.get(id) ?? 0) + 1;
      calls.set(id, n);
      const json = (status: number, body: string) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      switch (id) {
        case 1:
          return json(500, '{"error":"boom"}');
        case 2:
          await new Promise((r) => setTimeout(r, 3_000).unref()); // past UPSTREAM_TIMEOUT_MS; unref: never holds the test worker
          return json(200, '{"id":2,"online":true}');
        case 3:
          return json(200, '{"id":3,"online":tru');
        case 4:
          return json(404, '{"error":"not found"}');
        case 5:
          return n <= 2 ? json(503, '{}') : json(200, '{"id":5,"online":true}');
        default:
          return json(200, JSON.stringify({ id, online: true }));
      }
    });
    // A generous publish deadline: under load a late confirm would spill to the outbox and (rightly,
    // at least once) publish a duplicate, which would blur the attempt counts this test asserts.
    // UPSTREAM_TIMEOUT_MS leaves room for a loaded CI machine: every answer but id 2's must beat it.
    const env = {
      ...isolated.env,
      OBJECTS_API_URL: stub.url,
      UPSTREAM_TIMEOUT_MS: '1000',
      RETRY_DELAYS_MS: '100,200',
      MAX_ATTEMPTS: '3',
      PUBLISH_TIMEOUT_MS: '10000',
    };
    services = await startServices(env);
    probe = await BrokerProbe.open();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await services.stop();
    await probe.close();
    await db.end();
    await stub.stop();
    await isolated.dispose();
  });

  it('retries transient failures with backoff, then dead-letters them with the reason', async () => {
    expect((await postCallback(services.port, { object_ids: [1, 2, 3, 4, 5, 6] })).status).toBe(200);
    const names = topologyNames(isolated.prefix);
    await waitFor(
      'four messages dead-lettered',
      async () => (await probe.queue(names.deadLetterQueue)).ready === 4,
      { timeoutMs: 30_000 },
    );

    const deadLetters = await probe.drain(names.deadLetterQueue);
    const reasons = Object.fromEntries(
      deadLetters.map((m) => [
        (m.body as { payload: { objectId: number } }).payload.objectId,
        m.headers['x-error-code'],
      ]),
    );
    expect(reasons).toEqual({
      1: 'retries_exhausted',
      2: 'retries_exhausted',
      3: 'retries_exhausted',
      4: 'object_not_found',
    });
    const timedOut = deadLetters.find(
      (m) => (m.body as { payload: { objectId: number } }).payload.objectId === 2,
    )!;
    expect(timedOut.headers['x-error-message']).toMatch(/did not answer/);

    // Three attempts each for the transient ones, one for the 404.
    expect(calls.get(1)).toBe(3);
    expect(calls.get(3)).toBe(3);
    expect(calls.get(4)).toBe(1);

    const { rows } = await db.query<{ id: string }>(
      `select id from "${isolated.schema}".objects order by id`,
    );
    expect(rows.map((r) => Number(r.id))).toEqual([5, 6]);

    const metrics = await (await fetch(`http://127.0.0.1:${services.consumer.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/conveyor_messages_dead_lettered_total\{[^}]*code="retries_exhausted"[^}]*\} 3/);
    expect(metrics).toMatch(/conveyor_messages_retried_total\{[^}]*tier="100"[^}]*\} [1-9]/);
  });
});
