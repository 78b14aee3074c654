import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { waitFor } from '@conveyor/testkit';
import { consumerApp, createIsolatedEnv, jobFinished, producerApp, type IsolatedEnv } from '../harness.js';

/** The probe's body, byte for byte: it ends eight bytes into the file part. */
const TRUNCATED_BODY = Buffer.from(
  '--zz\r\ncontent-disposition: form-data; name="width"\r\n\r\n8\r\n--zz\r\ncontent-disposition: form-data; name="height"\r\n\r\n8\r\n--zz\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n\x1a\n',
  'latin1',
);
const UPLOAD_ROUTES = ['/v1/images', '/api/v1/images/resize'];

// Tests read arbitrary JSON error bodies; `any` keeps those assertions readable.
/* eslint-disable @typescript-eslint/no-explicit-any */
async function post(
  port: number,
  path: string,
  body: Buffer | FormData,
  contentType?: string,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: contentType ? { 'content-type': contentType } : {},
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function form(fields: Record<string, string>, file?: Buffer): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append('file', new Blob([file]), 'photo.png');
  return data;
}

/** Every file under the storage root, temporary files included. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The producer runs in this process: its open descriptors are ours. */
const openFds = () => readdirSync('/proc/self/fd').length;

describe('multipart uploads a hostile client sends', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp> | undefined;
  let env: Record<string, string>;
  let root: string;
  let port: number;
  let png: Buffer;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('uploadabuse');
    root = mkdtempSync(join(tmpdir(), 'upload-abuse-'));
    env = {
      ...isolated.env,
      STORAGE_ROOT: root,
      IMAGE_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
      JOB_CHECK_INTERVAL_MS: '100',
    };
    producer = producerApp(env);
    await producer.start();
    port = producer.port;
    png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a6' } })
      .png()
      .toBuffer();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.stop();
    await isolated?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const accepted = async (path: string) => {
    const response = await post(port, path, form({ width: '8', height: '8' }, png));
    expect(response.status).toBe(202);
    return response.body;
  };

  it.each(UPLOAD_ROUTES)(
    'answers a body that ends inside the file part with 400 on %s, stores nothing and stays up',
    async (path) => {
      const before = filesUnder(root);
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await post(port, path, TRUNCATED_BODY, 'multipart/form-data; boundary=zz');
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({
          code: 'malformed_multipart',
          message: expect.stringContaining('Unexpected end of form'),
        });
      }
      expect(filesUnder(root)).toEqual(before);
      await accepted(path);
    },
  );

  it.each(UPLOAD_ROUTES)(
    'answers a multipart content type without a boundary with 400 naming it on %s',
    async (path) => {
      const response = await post(port, path, TRUNCATED_BODY, 'multipart/form-data');
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: 'malformed_multipart',
        message: expect.stringContaining('boundary'),
      });
      await accepted(path);
    },
  );

  it('reclaims every descriptor and temporary file of 10 uploads aborted in the middle of the file', async () => {
    await accepted('/v1/images'); // Pools and folders at their steady state before counting.
    const filesBefore = filesUnder(root).length;
    const fdsBefore = openFds();

    const head = Buffer.from(
      [
        'POST /v1/images HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: multipart/form-data; boundary=zz',
        `Content-Length: ${1024 * 1024}`,
        '',
        '--zz\r\ncontent-disposition: form-data; name="width"\r\n\r\n8\r\n--zz\r\ncontent-disposition: form-data; name="height"\r\n\r\n8',
        '--zz\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n',
      ].join('\r\n'),
      'latin1',
    );
    const partOfTheFile = Buffer.concat([png, Buffer.alloc(200 * 1024, 7)]);
    const sockets = await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.write(Buffer.concat([head, partOfTheFile]));
              resolve(socket);
            });
            socket.on('error', reject);
          }),
      ),
    );
    // Every upload is being written: its temporary file exists. Then the clients go away.
    await waitFor('10 uploads in progress', () => filesUnder(root).length === filesBefore + 10);
    for (const socket of sockets) socket.destroy();

    await waitFor('temporary files removed', () => filesUnder(root).length === filesBefore, {
      timeoutMs: 10_000,
    });
    await waitFor(`descriptors back to ${fdsBefore}`, () => openFds() <= fdsBefore, { timeoutMs: 10_000 });
    await accepted('/v1/images');
  });

  it('checks customId and callbackUrl form fields with the JSON route’s rules, naming the field', async () => {
    const before = filesUnder(root);
    const refused = async (
      fields: Record<string, string>,
      status: number,
      path: RegExp,
      route = '/v1/images',
    ) => {
      const response = await post(port, route, form({ width: '8', height: '8', ...fields }, png));
      expect([response.status, response.body.error.details]).toEqual([
        status,
        expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(path) })]),
      ]);
      return response.body.error;
    };

    await refused({ customId: 'has spaces' }, 422, /^customId$/);
    await refused({ customId: 'x'.repeat(4000) }, 422, /^customId$/);
    await refused({ customId: 'nul\u0000byte' }, 422, /^customId$/);
    await refused({ callbackUrl: 'ftp://example.com/hook' }, 400, /^callbackUrl$/);
    await refused({ callbackUrl: 'https://user:secret@example.com/hook' }, 400, /^callbackUrl$/);
    await refused({ callbackUrl: 'https://example.com/hook#' }, 400, /^callbackUrl$/);
    await refused({ callbackUrl: `https://example.com/${'a'.repeat(3000)}` }, 422, /^callbackUrl$/);
    // Over busboy's field size: once silently cut and stored, now refused.
    const cut = await refused(
      { callbackUrl: `https://example.com/${'a'.repeat(5000)}` },
      413,
      /^callbackUrl$/,
    );
    expect(cut.code).toBe('field_too_large');
    // Unknown fields, as the JSON route's strict body; the old API only ever sent file, width and height.
    await refused({ colour: 'red' }, 422, /^colour$/);
    await refused({ colour: 'red' }, 422, /^colour$/, '/api/v1/images/resize');
    expect(filesUnder(root)).toEqual(before);

    const submitted = await post(
      port,
      '/v1/images',
      form({ width: '8', height: '8', customId: 'order-17', callbackUrl: 'https://example.com/hook' }, png),
    );
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ customId: 'order-17', callbackUrl: 'https://example.com/hook' });
  });

  it.each([
    ['/v1/jobs/{id}/result', (id: string) => `/v1/jobs/${id}/result`],
    ['/api/v1/images/result/{id}', (id: string) => `/api/v1/images/result/${id}`],
  ])('answers %s with 410 when the result blob vanished before the download', async (_route, resultPath) => {
    if (!consumer) {
      consumer = consumerApp(env);
      await consumer.start();
    }
    const { id } = await accepted('/v1/images');
    const job = await jobFinished(port, id);
    expect(job.status).toBe('succeeded');
    const url = `http://127.0.0.1:${port}${resultPath(id)}`;
    expect((await fetch(url)).status).toBe(200);

    // What expiry deletion does between the job's read and the download.
    const resultFile = join(root, job.result.location.bucket ?? '', job.result.location.key);
    expect(readFileSync(resultFile).length).toBeGreaterThan(0);
    rmSync(resultFile);
    const response = await fetch(url);
    expect(response.status).toBe(410);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('cache-control')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: 'result_expired' } });
  });
});
