import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  VERY_SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

/**
 * The factorization service's API as its README documents it, unchanged for its clients:
 * `POST /factor {"number":1234}` → 202 `{"task_id"}`; `GET /get/<task_id>` → 200
 * `{"result":"Calculating..."}` until done, then `{"result":"2,617"}`; an unknown id → 404
 * with the text `Task_id <id> does not exist` (not JSON). Written from that README, not from
 * our own /v1 API.
 */
describe('the old factorization API', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let port: number;
  const apps: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('legacyfactor');
    const producer = producerApp(isolated.env);
    await producer.start();
    apps.push(producer);
    port = producer.port;
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await db.end();
    await isolated.dispose();
  });

  /** The README's client: `curl --header "Content-Type: application/json" --request POST --data '{"number":1234}' /factor`. */
  const factor = (number: unknown) => request(port, 'POST', '/factor', { number });
  const get = (taskId: string) =>
    fetch(`http://127.0.0.1:${port}/get/${taskId}`, { signal: AbortSignal.timeout(5_000) });
  const resultOf = async (taskId: string) =>
    ((await (await get(taskId)).json()) as { result: string }).result;

  async function startConsumer(env: Record<string, string> = {}): Promise<void> {
    const consumer = consumerApp({ ...isolated.env, ...env });
    await consumer.start();
    apps.push(consumer);
  }

  it('answers 202 with the task id alone, then "Calculating..." until a worker has the factors', async () => {
    // No consumer yet: the task cannot be finished.
    const submitted = await factor(1234);
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(submitted.body)).toEqual(['task_id']);
    const taskId = submitted.body.task_id as string;

    const pending = await get(taskId);
    expect(pending.status).toBe(200);
    expect(await pending.json()).toEqual({ result: 'Calculating...' });

    await startConsumer({ FACTORIZE_TIMEOUT_MS: '1500' });
    await waitFor('the factors of 1234', async () => (await resultOf(taskId)) !== 'Calculating...');
    const done = await get(taskId);
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ result: '2,617' });
  });

  it('gives a prime as itself and repeated factors once each time they divide', async () => {
    const prime = (await factor(617)).body.task_id as string;
    const square = (await factor(7 * 7 * 11)).body.task_id as string;
    await waitFor(
      'both factored',
      async () =>
        (await resultOf(prime)) !== 'Calculating...' && (await resultOf(square)) !== 'Calculating...',
    );
    expect(await resultOf(prime)).toBe('617');
    expect(await resultOf(square)).toBe('7,7,11');
  });

  it('answers an unknown task id with the text "Task_id <id> does not exist" and 404', async () => {
    // A UUID we never issued, and an id of the old service's own kind (a random integer).
    for (const taskId of [randomUUID(), '260511577']) {
      const response = await get(taskId);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text()).toBe(`Task_id ${taskId} does not exist`);
    }
  });

  it('answers a job of another kind as a task that does not exist', async () => {
    const csv = await request(port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 's3', bucket: 'data', key: 'a.csv' },
    });
    expect(csv.status).toBe(202);
    const response = await get(csv.body.id);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(`Task_id ${csv.body.id} does not exist`);
  });

  it('says how a task that will never have factors ended, instead of "Calculating..." forever', async () => {
    // FACTORIZE_TIMEOUT_MS is 1.5 s; this number takes about 26 s.
    const taskId = (await factor(VERY_SLOW_SEMIPRIME.n)).body.task_id as string;
    await waitFor('the task gave up', async () => (await resultOf(taskId)) !== 'Calculating...', {
      timeoutMs: 15_000,
    });
    const response = await get(taskId);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      result: 'Failed',
      // The SDK's deadline (the kind's registered timeout) and the thread's own are the same moment.
      error: {
        code: 'timeout',
        message: expect.stringMatching(/FACTORIZE_TIMEOUT_MS|timed out after 1500 ms/),
      },
    });
  });

  it('answers a task whose result was dropped after its retention as one that does not exist', async () => {
    const taskId = (await factor(15)).body.task_id as string;
    await waitFor('15 factored', async () => (await resultOf(taskId)) === '3,5');
    // Its retention runs out now rather than in 30 days; the real cleanup routine drops it.
    await db.query(
      `update "${isolated.schema}".jobs set expires_at = now() - interval '1 second' where id = $1`,
      [taskId],
    );
    const cleanup = cleanupApp({ ...isolated.env, JOB_ROUTINE_INTERVAL_MS: '100' });
    await cleanup.start();
    apps.push(cleanup);
    const gone = await waitFor('result dropped', async () => {
      const response = await get(taskId);
      return response.status === 404 ? response : undefined;
    });
    expect(await gone.text()).toBe(`Task_id ${taskId} does not exist`);
  });

  it('refuses a body it cannot factor with a 4xx naming the problem, where the old service crashed with a 500', async () => {
    for (const body of [{ number: -3 }, { number: 'abc' }, {}, [1234]]) {
      const response = await request(port, 'POST', '/factor', body);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toEqual(expect.any(String));
    }
    const text = await fetch(`http://127.0.0.1:${port}/factor`, {
      method: 'POST',
      body: '{"number":1234}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  it('keeps the "just for test" greeting at /', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Hello Factor app!\n');
  });
});
