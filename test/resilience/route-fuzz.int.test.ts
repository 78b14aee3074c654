import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createIsolatedEnv, producerApp, type IsolatedEnv } from '../harness.js';

/**
 * The invariant every route keeps whatever a client sends: an answer below 500 (or a 503 when a
 * dependency is down), and the process still up afterwards. Requests are built from each route's
 * own shape (valid bodies, then mutated ones), from arbitrary JSON, and from raw bytes under
 * every content type the API reads.
 */

const ROUTES: {
  method: string;
  path: string;
  body?: 'job' | 'factor' | 'task' | 'callback' | 'upload' | 'redeliver' | 'schedule';
}[] = [
  { method: 'POST', path: '/v1/jobs', body: 'job' },
  { method: 'GET', path: '/v1/jobs' },
  { method: 'GET', path: '/v1/jobs/:id' },
  { method: 'DELETE', path: '/v1/jobs/:id' },
  { method: 'GET', path: '/v1/jobs/:id/result' },
  { method: 'GET', path: '/v1/jobs/:id/deliveries' },
  { method: 'POST', path: '/v1/jobs/:id/deliveries/redeliver', body: 'redeliver' },
  { method: 'GET', path: '/v1/stats' },
  { method: 'POST', path: '/v1/schedules', body: 'schedule' },
  { method: 'GET', path: '/v1/schedules' },
  { method: 'GET', path: '/v1/schedules/:id' },
  { method: 'DELETE', path: '/v1/schedules/:id' },
  { method: 'POST', path: '/v1/schedules/:id/pause' },
  { method: 'POST', path: '/v1/schedules/:id/resume' },
  { method: 'POST', path: '/v1/webhook-secret/rotate' },
  { method: 'POST', path: '/v1/images', body: 'upload' },
  { method: 'POST', path: '/factor', body: 'factor' },
  { method: 'GET', path: '/get/:id' },
  { method: 'POST', path: '/tasks', body: 'task' },
  { method: 'GET', path: '/tasks/active' },
  { method: 'GET', path: '/tasks/:id' },
  { method: 'POST', path: '/api/v1/images/resize', body: 'upload' },
  { method: 'GET', path: '/api/v1/status/:id' },
  { method: 'GET', path: '/api/v1/images/result/:id' },
  { method: 'POST', path: '/callback', body: 'callback' },
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
];

/** Strings a probe likes: control characters, NUL, huge, non-ASCII, path tricks, numbers as text. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '../../etc/passwd',
    '%00',
    '\u202e',
    '😀',
    ' ',
    '#',
    'http://[::ffff:0:169.254.169.254]/',
    'http://x/#',
    '1e9999',
    '-1',
    '0',
  ),
  fc.integer({ min: 1, max: 6000 }).map((n) => 'x'.repeat(n)),
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.jsonValue({ maxDepth: 3 }),
  fc.double(),
  fc.bigInt().map(String),
  fc.constant(null),
);

const idSegment = fc.oneof(
  fc.uuid(),
  nastyString.map(encodeURIComponent),
  fc.constantFrom('%00', '%ZZ', '..', 'active'),
);

/** A valid body for the route, with some of its fields replaced by hostile values. */
function bodyFor(kind: NonNullable<(typeof ROUTES)[number]['body']>): fc.Arbitrary<unknown> {
  const valid: Record<typeof kind, Record<string, unknown>> = {
    job: {
      kind: 'factorize',
      input: { number: '1234' },
      customId: 'abc',
      callbackUrl: 'http://127.0.0.1:1/hook',
    },
    factor: { number: 1234 },
    task: { storage: 'local', path: 'reports/a.csv', every: 10 },
    callback: { object_ids: [1, 2, 3] },
    upload: {},
    redeliver: { deliveryIds: [] },
    schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin', kind: 'factorize', input: { number: '12' } },
  };
  const base = valid[kind];
  const keys = [
    ...Object.keys(base),
    'kind',
    'input',
    'storage',
    'bucket',
    'key',
    'path',
    'number',
    'object_ids',
    'runAt',
    'delayMs',
    'cron',
    'timezone',
    'overlap',
    'catchUp',
    'extra',
  ];
  return fc.oneof(
    fc.constant(base),
    fc
      .dictionary(fc.constantFrom(...keys), nastyValue, { maxKeys: 4 })
      .map((changes) => ({ ...base, ...changes })),
    fc.record({
      kind: fc.constantFrom('factorize', 'csv-sum', 'image-resize', 'nope'),
      input: fc.dictionary(fc.constantFrom(...keys), nastyValue, { maxKeys: 4 }),
    }),
    nastyValue,
  );
}

type Payload = { contentType?: string; bytes?: Buffer };

function multipart(
  boundary: string,
  parts: { name: string; value: string; file?: boolean }[],
  truncate: boolean,
): Buffer {
  const chunks = parts.map((part) =>
    part.file
      ? `--${boundary}\r\ncontent-disposition: form-data; name="${part.name}"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n\x1a\n${part.value}\r\n`
      : `--${boundary}\r\ncontent-disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`,
  );
  const text = chunks.join('') + (truncate ? '' : `--${boundary}--\r\n`);
  return Buffer.from(truncate ? text.slice(0, Math.max(0, text.length - 3)) : text, 'latin1');
}

const uploadPayload: fc.Arbitrary<Payload> = fc
  .record({
    boundary: fc.constantFrom('zz', 'x'.repeat(70), ''),
    parts: fc.array(
      fc.record({
        name: fc.constantFrom(
          'file',
          'width',
          'height',
          'customId',
          'callbackUrl',
          'fit',
          'runAt',
          'delayMs',
          'other',
        ),
        value: nastyString,
        file: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    truncate: fc.boolean(),
    declareBoundary: fc.boolean(),
  })
  .map(({ boundary, parts, truncate, declareBoundary }) => ({
    contentType: declareBoundary ? `multipart/form-data; boundary=${boundary}` : 'multipart/form-data',
    bytes: multipart(boundary || 'b', parts, truncate),
  }));

function payloadFor(route: (typeof ROUTES)[number]): fc.Arbitrary<Payload> {
  const json = (route.body && route.body !== 'upload' ? bodyFor(route.body) : nastyValue).map((value) => ({
    contentType: 'application/json',
    bytes: Buffer.from(JSON.stringify(value) ?? 'null'),
  }));
  const raw = fc.record({
    contentType: fc.constantFrom(
      'application/json',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'text/plain',
      'multipart/form-data',
      'application/x-www-form-urlencoded',
    ),
    bytes: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  });
  return fc.oneof(route.body === 'upload' ? uploadPayload : json, raw, fc.constant({}));
}

const query = fc.dictionary(
  fc.constantFrom('status', 'kind', 'customId', 'limit', 'cursor', 'x', 'status[]'),
  nastyString.map(encodeURIComponent),
  { maxKeys: 3 },
);

// Upload routes weigh more: a multipart body has the most ways to go wrong.
const route = fc.oneof(
  ...ROUTES.map((r) => ({ arbitrary: fc.constant(r), weight: r.body === 'upload' ? 6 : 1 })),
);

const request: fc.Arbitrary<FuzzRequest> = route.chain((route) =>
  fc.record({
    route: fc.constant(route),
    id: idSegment,
    payload: payloadFor(route),
    query,
    otherMethod: fc.option(fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST', 'GET'), { freq: 5 }),
  }),
);

/** What the outside probe sent that killed the producer: a body ending inside the file part, and no boundary. */
interface FuzzRequest {
  route: (typeof ROUTES)[number];
  id: string;
  payload: Payload;
  query: Record<string, string>;
  otherMethod: string | null;
}

function probeExamples(): [FuzzRequest][] {
  const truncated = Buffer.from(
    '--zz\r\ncontent-disposition: form-data; name="width"\r\n\r\n8\r\n--zz\r\ncontent-disposition: form-data; name="height"\r\n\r\n8\r\n--zz\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n\x1a\n',
    'latin1',
  );
  const uploads = ROUTES.filter((r) => r.body === 'upload');
  return uploads.flatMap((upload) => [
    [
      {
        route: upload,
        id: '',
        payload: { contentType: 'multipart/form-data; boundary=zz', bytes: truncated },
        query: {},
        otherMethod: null,
      },
    ],
    [
      {
        route: upload,
        id: '',
        payload: { contentType: 'multipart/form-data', bytes: truncated },
        query: {},
        otherMethod: null,
      },
    ],
  ]);
}

describe('every route, whatever it is sent', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let root: string;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('fuzz');
    root = mkdtempSync(join(tmpdir(), 'fuzz-'));
    producer = producerApp({ ...isolated.env, STORAGE_ROOT: root });
    await producer.start();
  });

  afterAll(async () => {
    await producer.stop();
    await isolated.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers below 500 (or 503) and stays up', async () => {
    const serverErrors: string[] = [];
    await fc.assert(
      fc.asyncProperty(request, async ({ route, id, payload, query, otherMethod }) => {
        const search = new URLSearchParams(query).toString();
        const path = route.path.replace(':id', id) + (search ? `?${search}` : '');
        const method = otherMethod ?? route.method;
        const hasBody = payload.bytes !== undefined && method !== 'GET';
        const response = await fetch(`http://127.0.0.1:${producer.port}${path}`, {
          method,
          headers: hasBody && payload.contentType ? { 'content-type': payload.contentType } : {},
          body: hasBody ? payload.bytes : undefined,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (response.status >= 500 && response.status !== 503)
          serverErrors.push(`${method} ${path} -> ${response.status} ${text.slice(0, 200)}`);
        expect(response.status >= 500 && response.status !== 503).toBe(false);
        // Errors are JSON a client can read, except the old APIs that answered in text.
        if (response.status >= 400 && response.headers.get('content-type')?.includes('json'))
          expect(() => JSON.parse(text)).not.toThrow();
      }),
      {
        numRuns: 400,
        examples: probeExamples(),
        seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
        verbose: 1,
      },
    );
    expect(serverErrors).toEqual([]);
    const health = await fetch(`http://127.0.0.1:${producer.port}/healthz`);
    expect(health.status).toBe(200);
  });
});
