import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/** Requests an outside probe sent that reached PostgreSQL or the event loop unchecked. */
describe('hostile input on the job routes', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('hostile');
    producer = producerApp(isolated.env);
    await producer.start();
    port = producer.port;
  });

  afterAll(async () => {
    await producer.stop();
    await isolated.dispose();
  });

  it('refuses a NUL byte in customId, in the body and in the query, with 400 naming it', async () => {
    const submitted = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '12' },
      customId: 'order\u00001',
    });
    expect(submitted.status).toBe(400);
    expect(submitted.body.error.details).toContainEqual(expect.objectContaining({ path: 'body.customId' }));

    const listed = await request(port, 'GET', '/v1/jobs?customId=order%001');
    expect(listed.status).toBe(400);
    expect(listed.body.error.details).toContainEqual(expect.objectContaining({ path: 'query.customId' }));
  });

  it('refuses a NUL byte anywhere in a job input with 400 naming where', async () => {
    const submitted = await request(port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 's3', bucket: 'data', key: 'report\u0000.csv' },
    });
    expect(submitted.status).toBe(400);
    expect(submitted.body.error.details.map((d: { path: string }) => d.path)).toContain('body.input.key');
  });

  it('answers GET /get/{id} of a job of another kind with the 404 of an unknown task', async () => {
    const csv = await request(port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 'local', path: 'reports/a.csv' },
    });
    expect(csv.status).toBe(202);
    const legacy = await request(port, 'GET', `/get/${csv.body.id}`);
    expect(legacy.status).toBe(404);
    expect(JSON.stringify(legacy.body)).toContain(`Task_id ${csv.body.id} does not exist`);
  });

  it('refuses a million-digit number by counting its digits first', async () => {
    // Serialized once, so what is measured below is the producer's work, not the test's JSON.stringify.
    const body = JSON.stringify({ kind: 'factorize', input: { number: '7'.repeat(1_000_000) } });
    const cpuMs: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      // CPU time of this process (the producer runs in it), not wall time: other test files share
      // the two cores, and what the fix saves is event-loop work (BigInt() of the digits took ~110 ms).
      const before = process.cpuUsage();
      const refused = await fetch(`http://127.0.0.1:${port}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer: unknown = await refused.json();
      const used = process.cpuUsage(before);
      cpuMs.push((used.user + used.system) / 1000);
      expect(refused.status).toBe(400);
      expect(answer).toMatchObject({
        error: { message: expect.stringContaining('at most 100 digits, it has 1000000') },
      });
    }
    // The request carries a megabyte of JSON to read and parse, a few ms of it here; the digit
    // check itself is timed in factorize-input.test.ts (under 10 ms; BigInt() first took ~110 ms).
    expect(Math.min(...cpuMs)).toBeLessThan(50);
  });
});
