import { createIsolatedEnv, postCallback, producerApp, type IsolatedEnv } from '../harness.js';

/** Every bad input gets a 4xx JSON error naming the problem, and the producer keeps serving. */
describe('POST /callback input validation', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('validation');
    producer = producerApp({ ...isolated.env, CALLBACK_MAX_IDS: '5', BODY_LIMIT_BYTES: '200' });
    await producer.start();
  });

  afterAll(async () => {
    await producer.stop();
    await isolated.dispose();
  });

  const raw = async (body: string, contentType = 'application/json') => {
    const response = await fetch(`http://127.0.0.1:${producer.port}/callback`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        error: { code: string; message: string; details?: { path: string }[] };
      },
    };
  };

  it.each([
    ['malformed JSON', '{"object_ids":[1,2', 400, 'invalid_json'],
    ['a JSON array instead of an object', '[1,2,3]', 400, 'validation_failed'],
    ['a missing object_ids', '{}', 400, 'validation_failed'],
    ['object_ids not an array', '{"object_ids":"1,2"}', 400, 'validation_failed'],
    ['a string id', '{"object_ids":[1,"2"]}', 400, 'validation_failed'],
    ['a negative id', '{"object_ids":[-1]}', 400, 'validation_failed'],
    ['a fractional id', '{"object_ids":[1.5]}', 400, 'validation_failed'],
    ['an id beyond 2^53', '{"object_ids":[9007199254740993]}', 400, 'validation_failed'],
    ['an unknown field', '{"object_ids":[1],"extra":true}', 400, 'validation_failed'],
    ['too many ids', '{"object_ids":[1,2,3,4,5,6]}', 400, 'validation_failed'],
    [
      'a body over the size limit',
      JSON.stringify({ object_ids: Array.from({ length: 100 }, (_, i) => i) }),
      413,
      'body_too_large',
    ],
  ])('refuses %s', async (_name, body, status, code) => {
    const response = await raw(body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message.length).toBeGreaterThan(10);
  });

  it('names the offending element', async () => {
    const response = await raw('{"object_ids":[1,2,"x"]}');
    expect(response.body.error.details).toEqual([{ path: 'body.object_ids.2', message: 'must be a number' }]);
  });

  it('refuses a body that is not declared as JSON with 415', async () => {
    const response = await raw('{"object_ids":[1]}', 'text/plain');
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`http://127.0.0.1:${producer.port}/nope`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('still accepts valid work after all of that, an empty list included', async () => {
    expect(await postCallback(producer.port, { object_ids: [1, 2, 3] })).toEqual({
      status: 200,
      body: { accepted: 3 },
    });
    expect(await postCallback(producer.port, { object_ids: [] })).toEqual({
      status: 200,
      body: { accepted: 0 },
    });
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${producer.port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${producer.port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, broker: true } });
    const metrics = await (await fetch(`http://127.0.0.1:${producer.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/conveyor_http_requests_total\{[^}]*route="\/callback"[^}]*status="400"/);
    expect(metrics).toMatch(/conveyor_messages_published_total/);
    expect(metrics).toMatch(/nodejs_eventloop_lag_seconds/);
  });
});
