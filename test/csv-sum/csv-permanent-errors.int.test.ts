import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpStub, startS3Server, type S3Server } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  jobFinished,
  request,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';
import { csvStorageEnv, putObjects } from './csv-fixture.js';

/**
 * Storage errors no retry can fix: refused at submit when the request alone shows it (400 naming
 * the field, nothing stored), else failed at the first attempt with a specific code, never retried
 * through every tier to end as `storage_unavailable`.
 */
describe('csv-sum: permanent storage errors', () => {
  let isolated: IsolatedEnv;
  let s3: S3Server;
  /** An S3-compatible server stricter than s3rver: it refuses keys under refused/ with a 400, forwards the rest. */
  let strictS3: HttpStub;
  let refusedRequests = 0;
  let services: Services;
  let producer: Services['producer'];
  let root: string;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('csvperm');
    root = mkdtempSync(join(tmpdir(), 'csv-perm-root-'));
    mkdirSync(join(root, 'in'));
    writeFileSync(join(root, 'in', 'data.csv'), 'a,b\n1,2\n');
    // A real symlink loop under the root: ping → pong → ping.
    symlinkSync(join(root, 'pong'), join(root, 'ping'));
    symlinkSync(join(root, 'ping'), join(root, 'pong'));

    s3 = await startS3Server({ buckets: ['data'] });
    await putObjects(s3, 'data', { 'ok/data.csv': 'a,b\n1,2\n3,4\n', 'refused/data.csv': 'a,b\n1,2\n' });
    strictS3 = await HttpStub.start((req, res, body) => {
      if (req.url?.startsWith('/data/refused/')) {
        refusedRequests += 1;
        res.writeHead(400, { 'content-type': 'application/xml' });
        // A HEAD answer carries no body; a GET's names the error, as S3 does.
        res.end(
          req.method === 'HEAD'
            ? undefined
            : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Invalid key</Message></Error>',
        );
        return;
      }
      const upstream = http.request(
        { host: '127.0.0.1', port: s3.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });

    services = await startServices({
      ...isolated.env,
      ...csvStorageEnv(root, strictS3.url),
      JOB_CHECK_INTERVAL_MS: '100',
      // Short tiers, so a job wrongly retried would show attempts > 1 well within the wait below.
      RETRY_DELAYS_MS: '200,500',
    });
    ({ producer } = services);
  });

  afterAll(async () => {
    await services.stop();
    await strictS3.stop();
    await s3.stop();
    await isolated.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const submit = (input: unknown, callbackUrl?: string) =>
    request(producer.port, 'POST', '/v1/jobs', { kind: 'csv-sum', input, callbackUrl });
  const pathsOf = (body: { error: { details?: { path: string }[] } }) =>
    (body.error.details ?? []).map((detail) => detail.path);

  describe('refused at submit with a 400 naming the field', () => {
    it.each([
      ['a symlink loop', 'ping/data.csv', 'invalid_location', 'symlinks form a loop'],
      ['the loop itself', 'pong', 'invalid_location', 'symlinks form a loop'],
      ['a 300-byte name', `in/${'n'.repeat(300)}.csv`, 'invalid_location', 'has a name of 304 bytes'],
      ['a 4,096-character path', `${'ab/'.repeat(1_365)}c`, 'validation_failed', 'at most 4095 bytes'],
      [
        'a path the storage root makes too long',
        `${'d/'.repeat(2_040)}x.csv`,
        'invalid_location',
        'is too long',
      ],
    ])('a local path with %s', async (_what, path, code, messagePart) => {
      const { status, body } = await submit({ storage: 'local', path });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code, message: expect.stringContaining(messagePart) });
      expect(pathsOf(body)).toEqual(['body.input.path']);
    });

    it.each([
      ['Bad_Bucket!', 'lowercase letters, digits'],
      ['Data', 'lowercase letters, digits'],
      ['ab', '3 to 63 characters'],
      ['b'.repeat(64), '3 to 63 characters'],
      ['a..b', 'no two dots in a row'],
    ])('the S3 bucket %p', async (bucket, messagePart) => {
      const { status, body } = await submit({ storage: 's3', bucket, key: 'ok/data.csv' });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'validation_failed',
        details: [{ path: 'body.input.bucket', message: expect.stringContaining(messagePart) }],
      });
    });

    it.each([
      ['a NUL byte', 'ok/data\u0000.csv', 'must not contain NUL characters'],
      ['1,025 bytes', `ok/${'k'.repeat(1_022)}`, 'at most 1024 bytes'],
      ['1,026 bytes in two-byte characters', `ok/${'é'.repeat(511)}`, 'at most 1024 bytes'],
    ])('an S3 key with %s', async (_what, key, messagePart) => {
      const { status, body } = await submit({ storage: 's3', bucket: 'data', key });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'validation_failed',
        details: [{ path: 'body.input.key', message: expect.stringContaining(messagePart) }],
      });
    });

    it('a NUL byte in the bucket', async () => {
      const { status, body } = await submit({ storage: 's3', bucket: 'da\u0000ta', key: 'ok/data.csv' });
      expect(status).toBe(400);
      expect(pathsOf(body)).toEqual(['body.input.bucket']);
    });

    it('the same on the old /tasks route, whose body is the input', async () => {
      const { status, body } = await request(producer.port, 'POST', '/tasks', {
        storage: 's3',
        bucket: 'Bad_Bucket!',
        key: 'x.csv',
      });
      expect(status).toBe(400);
      expect(pathsOf(body)).toEqual(['body.bucket']);
      const loop = await request(producer.port, 'POST', '/tasks', {
        storage: 'local',
        path: 'ping/data.csv',
      });
      expect(loop.status).toBe(400);
      expect(pathsOf(loop.body)).toEqual(['body.path']);
    });

    it('a callback URL ending in an empty fragment, which the notifier would refuse on every delivery', async () => {
      const { status, body } = await submit(
        { storage: 'local', path: 'in/data.csv' },
        'http://example.com/#',
      );
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 'invalid_callback_url',
        details: [{ path: 'body.callbackUrl', message: expect.stringContaining('fragment') }],
      });
    });

    it('stored none of them', async () => {
      const { body } = await request(producer.port, 'GET', '/v1/jobs?kind=csv-sum');
      expect(body.jobs).toEqual([]);
    });
  });

  describe('found at run time', () => {
    it('fails a job whose key the S3 server refuses at the first attempt, with storage_refused', async () => {
      const startedAt = Date.now();
      const { status, body } = await submit({ storage: 's3', bucket: 'data', key: 'refused/data.csv' });
      expect(status).toBe(202);
      const job = await jobFinished(producer.port, body.id, 20_000);
      expect(job).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'storage_refused', message: expect.stringContaining('refused by the storage server') },
      });
      expect(refusedRequests).toBe(1);
      // Every retry tier took about 157 s before; a permanent error takes one attempt.
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    });

    it('still reads what the same server accepts (the refusal is the key, not the set-up)', async () => {
      const { body } = await submit({ storage: 's3', bucket: 'data', key: 'ok/data.csv', every: 1 });
      const job = await jobFinished(producer.port, body.id, 20_000);
      expect(job).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: {
          rowsRead: 2,
          columns: [
            { column: 1, name: 'a', sum: '4' },
            { column: 2, name: 'b', sum: '6' },
          ],
        },
      });
    });
  });
});
