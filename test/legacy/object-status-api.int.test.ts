import pg from 'pg';
import { HttpStub, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createIsolatedEnv, startServices, type IsolatedEnv, type Services } from '../harness.js';

/**
 * The object-status service's callback as its README and its tester describe it: the tester
 * POSTs `{"object_ids":[...]}` (JSON, ids that may repeat) to `/callback` and gets 200; every
 * id is then looked up at the tester's `GET /objects/:id` (`{"id","online"}`), and an online
 * object's `last_seen` is stored. A body that cannot be read queues nothing. Written from the
 * old producer, consumer and tester_service.go, not from our own /v1 API.
 */
describe('the old object-status callback', () => {
  let isolated: IsolatedEnv;
  let tester: HttpStub;
  let db: pg.Client;
  let services: Services;
  let port: number;
  const asked = new Map<number, number>();

  beforeAll(async () => {
    isolated = await createIsolatedEnv('legacyobjects');
    // tester_service.go's /objects/ handler, without its 0.3-4.3 s delay: even ids are online.
    tester = await HttpStub.start((req, res) => {
      const id = Number(/^\/objects\/(\d+)$/.exec(req.url ?? '')?.[1]);
      if (!Number.isInteger(id)) {
        res.writeHead(400).end('invalid id');
        return;
      }
      asked.set(id, (asked.get(id) ?? 0) + 1);
      res.end(JSON.stringify({ id, online: id % 2 === 0 }));
    });
    services = await startServices({ ...isolated.env, OBJECTS_API_URL: tester.url });
    ({ port } = services);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await services.stop();
    await db.end();
    await tester.stop();
    await isolated.dispose();
  });

  /** What tester_service.go sends: `client.Post(endpoint+"/callback", "application/json", body)`. */
  const callback = (body: string) =>
    fetch(`http://127.0.0.1:${port}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5_000),
    });

  const lastSeen = async () => {
    const { rows } = await db.query<{ id: string; last_seen: Date }>(
      `select id, last_seen from "${isolated.schema}".objects order by id`,
    );
    return new Map(rows.map((row) => [Number(row.id), row.last_seen.getTime()]));
  };

  it("answers 200 to the tester's callback and stores last_seen for every online id", async () => {
    // The tester's ids: random 0..99, so some repeat.
    const ids = [4, 7, 10, 4, 33, 58, 10, 99, 0];
    const sentAt = Date.now();
    const response = await callback(`{"object_ids":[${ids.join(',')}]}`);
    expect(response.status).toBe(200);

    const online = [...new Set(ids.filter((id) => id % 2 === 0))].sort((a, b) => a - b);
    const stored = await waitFor('every online id stored', async () => {
      const seen = await lastSeen();
      return online.every((id) => seen.has(id)) ? seen : undefined;
    });
    expect([...stored.keys()]).toEqual(online);
    for (const time of stored.values()) expect(time).toBeGreaterThanOrEqual(sentAt - 1_000);
    // Every id was looked up, offline ones too (that is how the consumer learns they are offline).
    await waitFor('every id looked up', () => ids.every((id) => asked.has(id)));
  });

  it('accepts an empty list and queues nothing for it', async () => {
    const before = [...asked.values()].reduce((a, b) => a + b, 0);
    expect((await callback('{"object_ids":[]}')).status).toBe(200);
    // A callback sent after it is looked up; had the empty one queued anything, it would show by then.
    expect((await callback('{"object_ids":[500]}')).status).toBe(200);
    await waitFor('500 looked up', () => asked.has(500));
    expect([...asked.values()].reduce((a, b) => a + b, 0)).toBe(before + 1);
  });

  it.each([
    ['malformed JSON', '{"object_ids":[1002,1004'],
    ['ids that are not integers', '{"object_ids":[1006,"1008",10.5]}'],
    ['no object_ids', '{"ids":[1010]}'],
    ['a JSON array', '[1012]'],
  ])('refuses %s with a client error and queues none of its ids', async (_name, body) => {
    const response = await callback(body);
    // The old producer answered 500 "Error to parse body" here; a 4xx says whose mistake it is.
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    // Sent after the bad one: once it is looked up, anything the bad one had queued would be too.
    const marker = 2_000 + asked.size;
    expect((await callback(`{"object_ids":[${marker}]}`)).status).toBe(200);
    await waitFor(`${marker} looked up`, () => asked.has(marker));
    for (const id of [1002, 1004, 1006, 1008, 1010, 1012]) expect(asked.has(id)).toBe(false);
  });

  it('answers other methods on /callback with 405 and Allow: POST, as the old service did', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await fetch(`http://127.0.0.1:${port}/callback`, {
        method,
        signal: AbortSignal.timeout(5_000),
      });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    }
  });
});
