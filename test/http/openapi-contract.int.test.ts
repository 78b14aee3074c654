import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorBody } from '@conveyor/contracts';
import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { JobKindRegistry } from '@conveyor/jobs';
import { silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL } from '@conveyor/testkit';
import { z } from 'zod';
import type { ProducerApp } from '../../services/producer/src/producer-app.js';
import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/**
 * The contract of issue #19 against the producer as it runs: the /openapi.json it serves
 * (with a kind a worker host registered, so that kind's components are checked too) lints clean
 * with redocly; every route it serves is in the document and every operation in the document is
 * served; and a request that breaks an operation's schema is refused with a status the document
 * declares for that operation, in the ErrorBody shape.
 */

/**
 * Routes that are not API operations, so not in the document: the load balancer's probes (the
 * old factorization service's `GET /` among them), the document itself, the dashboard's pages,
 * and the 405 that /callback answers for any other method (the old Go service's behaviour).
 */
const NOT_OPERATIONS = [
  'get /healthz',
  'get /readyz',
  'get /',
  'get /openapi.json',
  'get /ui',
  'get /ui/*path',
  'all /callback',
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The document's JSON, read loosely: the assertions check what they read. */
const Parameter = z.object({
  name: z.string(),
  in: z.string(),
  required: z.boolean().optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
});
const Operation = z.object({
  operationId: z.string(),
  parameters: z.array(Parameter).optional(),
  requestBody: z.object({ content: z.record(z.string(), z.object({ schema: z.unknown() })) }).optional(),
  responses: z.record(z.string(), z.unknown()),
});
type Operation = z.infer<typeof Operation>;
const Document = z.object({
  openapi: z.string(),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z.object({ schemas: z.record(z.string(), z.unknown()) }),
  webhooks: z.record(z.string(), z.unknown()),
});
type Document = z.infer<typeof Document>;

/** `/v1/jobs/{id}` and `/v1/jobs/:id` alike as `/v1/jobs/{}`. */
const shapeOf = (path: string) => path.replace(/\{\w+\}|:\w+/g, '{}');

function operations(document: Document): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => ({
      method,
      path,
      operation: Operation.parse(item[method]),
    })),
  );
}

/** A query value that breaks `schema`: text for a number, a word outside an enum, one character too many. */
function violatingQueryValue(schema: Record<string, unknown>, document: Document): string | undefined {
  const resolved =
    typeof schema.$ref === 'string'
      ? z
          .record(z.string(), z.unknown())
          .parse(document.components.schemas[schema.$ref.split('/').pop() ?? ''])
      : schema;
  if (resolved.type === 'integer' || resolved.type === 'number') return 'not-a-number';
  if (Array.isArray(resolved.enum)) return 'not-one-of-them';
  if (typeof resolved.maxLength === 'number') return 'x'.repeat(resolved.maxLength + 1);
  if (typeof resolved.pattern === 'string') return '!!';
  return undefined;
}

/** Requests that break an operation's declared parameters or body, each with what it breaks. */
function violations(
  path: string,
  operation: Operation,
  document: Document,
): { what: string; url: string; init: RequestInit }[] {
  const url = path.replace(/\{\w+\}/g, () => crypto.randomUUID());
  const found: { what: string; url: string; init: RequestInit }[] = [];
  for (const parameter of operation.parameters ?? []) {
    // Path parameters take any text (an id that is not a UUID is a 404, which is declared).
    if (parameter.in !== 'query' || !parameter.schema) continue;
    const value = violatingQueryValue(parameter.schema, document);
    if (value !== undefined)
      found.push({
        what: `query ${parameter.name}=${value}`,
        url: `${url}?${parameter.name}=${value}`,
        init: {},
      });
  }
  const content = operation.requestBody?.content ?? {};
  if (content['application/json']) {
    const json = { 'content-type': 'application/json' };
    // Every JSON body is an object: an array is the wrong type, and {} lacks the required fields.
    found.push({ what: 'body of the wrong type', url, init: { body: '[]', headers: json } });
    found.push({ what: 'body without its fields', url, init: { body: '{}', headers: json } });
  }
  if (content['multipart/form-data']) {
    const form = new FormData();
    form.set('width', 'wide');
    found.push({ what: 'form without its file, width not a number', url, init: { body: form } });
  }
  return found;
}

describe('the OpenAPI contract', () => {
  let isolated: IsolatedEnv;
  let producer: ProducerApp;
  let database: DatabaseHandle;
  let port: number;
  let served: unknown;
  let document: Document;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('openapi');
    producer = producerApp(isolated.env);
    await producer.start();
    port = producer.port;
    database = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 1,
      log: silentLogger(),
    });
    // A kind as a worker host registers it: JSON Schemas made by zod, with their own `$schema`.
    await new JobKindRegistry(database.db).register({
      kind: 'echo',
      version: 1,
      inputSchema: z.toJSONSchema(z.object({ text: z.string().min(1) })),
      resultSchema: z.toJSONSchema(z.object({ text: z.string(), attempt: z.int() })),
      schemaHash: 'echo-1',
      concurrency: 1,
      timeoutMs: null,
      retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 100, maxDelayMs: 100 } },
      isolation: 'inline',
    });
    const answer = await request(port, 'GET', '/openapi.json');
    expect(answer.status).toBe(200);
    served = answer.body;
    document = Document.parse(served);
  });

  afterAll(async () => {
    await database?.close();
    await producer?.stop();
    await isolated?.dispose();
  });

  it('is OpenAPI 3.1 with the registered kind, the shared schemas and the webhook', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const name of ['Job', 'ErrorBody', 'JobSubmission', 'WebhookPayload', 'echo.input', 'echo.result'])
      expect(document.components.schemas).toHaveProperty([name]);
    expect(Object.keys(document.webhooks)).toEqual(['jobChanged']);
    const ids = operations(document).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lints clean with redocly: no error, no warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(served, null, 2));
      // The CLI of the @redocly/cli devDependency, run by this node (its bin, without a shell shim).
      const cli = require.resolve('@redocly/cli/bin/cli.js');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [cli, 'lint', file, '--config', join(process.cwd(), 'redocly.yaml'), '--format=json'],
        {
          // Offline and quiet: no telemetry, no update check.
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
          maxBuffer: 16 * 1024 * 1024,
        },
      ).catch((error: unknown) => {
        // redocly exits non-zero on errors; its report is still on stdout.
        const { stdout: report } = z.object({ stdout: z.string() }).parse(error);
        return { stdout: report };
      });
      const report = z
        .object({
          totals: z.object({ errors: z.number(), warnings: z.number() }),
          problems: z.array(z.object({ ruleId: z.string(), message: z.string(), location: z.unknown() })),
        })
        .parse(JSON.parse(stdout));
      expect(report.problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('documents every route the producer serves, and serves every operation it documents', () => {
    const servedRoutes = producer
      .servedRoutes()
      .map(({ method, path }) => `${method} ${path}`)
      .filter((route) => !NOT_OPERATIONS.includes(route));
    const documented = operations(document).map(({ method, path }) => `${method} ${shapeOf(path)}`);
    expect([...new Set(servedRoutes.map((route) => shapeOf(route)))].sort()).toEqual(documented.sort());
    // The exclusions are real routes: a stale entry would hide nothing and mean nothing.
    const all = producer.servedRoutes().map(({ method, path }) => `${method} ${path}`);
    for (const route of NOT_OPERATIONS) expect(all).toContain(route);
  });

  it('refuses a request that breaks a schema with a 4xx the document declares, in the ErrorBody shape', async () => {
    const checked: string[] = [];
    for (const { method, path, operation } of operations(document)) {
      for (const violation of violations(path, operation, document)) {
        const response = await fetch(`http://127.0.0.1:${port}${violation.url}`, {
          ...violation.init,
          method: method.toUpperCase(),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        const seen = `${method} ${violation.url}: ${violation.what} → ${response.status} ${text.slice(0, 200)}`;
        expect([seen, response.status >= 400 && response.status < 500]).toEqual([seen, true]);
        expect([seen, Object.keys(operation.responses)]).toEqual([
          seen,
          expect.arrayContaining([String(response.status)]),
        ]);
        expect([seen, ErrorBody.safeParse(JSON.parse(text)).success]).toEqual([seen, true]);
        checked.push(`${operation.operationId}: ${violation.what}`);
      }
    }
    // Every kind of violation was tried somewhere: query, JSON body and form.
    expect(checked).toEqual(
      expect.arrayContaining([
        'listJobs: query limit=not-a-number',
        'submitJob: body of the wrong type',
        'postObjectCallback: body without its fields',
        'uploadImage: form without its file, width not a number',
        'getTimeseries: query minutes=not-a-number',
      ]),
    );
  });
});
