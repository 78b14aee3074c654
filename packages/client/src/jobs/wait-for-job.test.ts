import { ApiTransport } from '../http/api-transport.js';
import { waitForJob } from './wait-for-job.js';

const job = (status: string, fraction: number) => ({
  id: 'j1',
  kind: 'factorize',
  status,
  progress: { fraction, message: null },
  result: status === 'succeeded' ? { factors: ['2'] } : null,
});

/** A fetch answering each request with the next of `answers`, recording the paths asked. */
function scripted(answers: (() => Response)[]) {
  const paths: string[] = [];
  const fetchImpl: typeof fetch = async (input) => {
    paths.push(new URL(String(input)).pathname);
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  };
  return { paths, transport: new ApiTransport({ baseUrl: 'http://api.test', fetch: fetchImpl }) };
}
const json =
  (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

describe('waitForJob by polling', () => {
  it('waits out a 503 with its Retry-After, reports each new progress once, resolves when final', async () => {
    const { paths, transport } = scripted([
      json({ error: { code: 'not_found', message: 'no such route' } }, 404),
      json(job('running', 0.5), 200, { 'retry-after': '0' }),
      json({ error: { code: 'service_unavailable', message: 'busy' } }, 503, { 'retry-after': '0' }),
      json(job('running', 0.5), 200, { 'retry-after': '0' }),
      json(job('succeeded', 1)),
    ]);
    const seen: number[] = [];
    const done = await waitForJob(transport, 'j1', { onProgress: (p) => seen.push(p.fraction) });
    expect(done.status).toBe('succeeded');
    expect(seen).toEqual([0.5, 1]);
    // The live stream was tried first; the API had none, so it polled.
    expect(paths).toEqual(['/v1/jobs/j1/live', '/v1/jobs/j1', '/v1/jobs/j1', '/v1/jobs/j1', '/v1/jobs/j1']);
  });

  it('rejects with an AbortError while sleeping between polls', async () => {
    const { transport } = scripted([json(job('queued', 0), 200, { 'retry-after': '60' })]);
    const controller = new AbortController();
    const waiting = waitForJob(transport, 'j1', {
      live: false,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('gives up on a 404 for the job itself', async () => {
    const { transport } = scripted([json({ error: { code: 'not_found', message: 'no job j1' } }, 404)]);
    await expect(waitForJob(transport, 'j1', { live: false })).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
  });
});
