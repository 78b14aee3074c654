import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { AppError } from '@conveyor/platform';
import { LocalBlobStore, StorageError } from '@conveyor/storage';
import { FIELD_MAX_BYTES, receiveImageUpload } from './image-upload.js';

const BOUNDARY = 'zz';
const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
/** Enough of a PNG for the sniffer: the signature and an IHDR chunk header. */
const PNG = Buffer.concat([
  PNG_SIGNATURE,
  Buffer.from('0000000d49484452000000080000000808020000004b6d29dc', 'hex'),
  Buffer.alloc(200),
]);

const field = (name: string, value: string) =>
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const fileHead = (name = 'file', fileName = 'a.png') =>
  `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"; filename="${fileName}"\r\ncontent-type: image/png\r\n\r\n`;
const end = `--${BOUNDARY}--\r\n`;
const body = (...parts: (string | Buffer)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part)));

/** The probe's body: it ends inside the file part, eight bytes into the image. */
const TRUNCATED = body(field('width', '8'), field('height', '8'), fileHead(), PNG_SIGNATURE);

type FakeRequest = PassThrough & { headers: Record<string, string> };
const fakeRequest = (contentType = `multipart/form-data; boundary=${BOUNDARY}`): FakeRequest =>
  Object.assign(new PassThrough(), { headers: { 'content-type': contentType } });

/** Every file under the store's root, temporary ones included. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('receiveImageUpload', () => {
  let root: string;
  let store: LocalBlobStore;
  const options = { bucket: 'images', maxBytes: 64 * 1024 };
  const receive = (request: FakeRequest) => receiveImageUpload(request, store, options);
  const send = (payload: Buffer, contentType?: string) => {
    const request = fakeRequest(contentType);
    request.end(payload);
    return receive(request);
  };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'image-upload-'));
    store = new LocalBlobStore(root);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores the file and returns the fields', async () => {
    const upload = await send(body(field('width', '8'), field('height', '8'), fileHead(), PNG, '\r\n', end));
    expect(upload.fields).toEqual({ width: '8', height: '8' });
    expect(upload.file).toMatchObject({ format: 'png', bytes: PNG.length, fileName: 'a.png' });
    expect(await filesUnder(root)).toEqual([path.join(root, 'images', upload.file!.location.key)]);
  });

  it('answers a body that ends inside the file part with malformed_multipart, and stores nothing', async () => {
    const error = await refusal(send(TRUNCATED));
    expect([error.status, error.code]).toEqual([400, 'malformed_multipart']);
    expect(error.message).toContain('Unexpected end of form');
    expect(await filesUnder(root)).toEqual([]);
  });

  it('answers a body that ends inside a file part it does not want, without crashing', async () => {
    // The first refusal wins: the part's name is wrong before the body is cut short.
    const error = await refusal(send(body(fileHead('picture'), PNG_SIGNATURE)));
    expect([error.status, error.code]).toEqual([422, 'unexpected_file']);
  });

  it('refuses a multipart content type without a boundary as a 400 naming it', async () => {
    const error = await refusal(send(TRUNCATED, 'multipart/form-data'));
    expect([error.status, error.code]).toEqual([400, 'malformed_multipart']);
    expect(error.message).toContain('boundary');
    expect(error.details).toEqual([{ path: 'headers.content-type', message: error.message }]);
    expect((await refusal(send(TRUNCATED, 'multipart/form-datax; boundary=zz'))).status).toBe(415);
  });

  it('refuses a malformed part header after the file was stored, and deletes the file', async () => {
    const error = await refusal(
      send(body(fileHead(), PNG, `\r\n--${BOUNDARY}\r\nno colon here\r\n\r\nx\r\n`, end)),
    );
    expect([error.status, error.code]).toEqual([400, 'malformed_multipart']);
    expect(error.message).toContain('Malformed part header');
    expect(await filesUnder(root)).toEqual([]);
  });

  it.each([
    ['errors', (request: FakeRequest) => request.destroy(new Error('socket hang up'))],
    ['closes', (request: FakeRequest) => request.destroy()],
  ])(
    'settles, with no file left behind, when the request %s in the middle of the file',
    async (_what, stop) => {
      const request = fakeRequest();
      const receiving = receive(request);
      request.write(body(field('width', '8'), fileHead(), PNG));
      // Once the temporary file exists the store is writing: the abort must reach it.
      for (let tries = 0; (await filesUnder(root)).length === 0; tries++) {
        if (tries > 200) throw new Error('the store never opened its temporary file');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      stop(request);
      const error = await refusal(receiving);
      expect([error.status, error.code]).toEqual([400, 'request_aborted']);
      expect(await filesUnder(root)).toEqual([]);
    },
  );

  it('settles at once for a request already closed', async () => {
    const request = fakeRequest();
    request.destroy();
    expect((await refusal(receive(request))).code).toBe('request_aborted');
  });

  it(`refuses a field over ${FIELD_MAX_BYTES} bytes (busboy would cut it silently) with 413 naming it`, async () => {
    const long = `https://example.com/${'a'.repeat(5000)}`;
    const error = await refusal(send(body(field('callbackUrl', long), fileHead(), PNG, '\r\n', end)));
    expect([error.status, error.code]).toEqual([413, 'field_too_large']);
    expect(error.details).toEqual([{ path: 'callbackUrl', message: expect.stringContaining('callbackUrl') }]);
    expect(await filesUnder(root)).toEqual([]);

    const exact = await send(
      body(field('customId', 'x'.repeat(FIELD_MAX_BYTES)), fileHead(), PNG, '\r\n', end),
    );
    expect(exact.fields.customId).toHaveLength(FIELD_MAX_BYTES);
  });

  it('refuses more fields or parts than a form needs instead of dropping them', async () => {
    const fields = (count: number) => Array.from({ length: count }, (_, i) => field(`f${i}`, 'v'));
    const accepted = await send(body(...fields(20), fileHead(), PNG, '\r\n', end));
    expect(Object.keys(accepted.fields)).toHaveLength(20);
    await store.delete(accepted.file!.location);
    const tooMany = await refusal(send(body(...fields(21), fileHead(), PNG, '\r\n', end)));
    expect([tooMany.status, tooMany.code]).toEqual([400, 'too_many_fields']);
    // Parts without a content-disposition are skipped, not fields, but still parts to parse.
    const nameless = Array.from(
      { length: 30 },
      () => `--${BOUNDARY}\r\ncontent-type: text/plain\r\n\r\nx\r\n`,
    );
    const tooManyParts = await refusal(send(body(...nameless, fileHead(), PNG, '\r\n', end)));
    expect([tooManyParts.status, tooManyParts.code]).toEqual([400, 'too_many_parts']);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('still refuses what is not an image, a second file and an oversized file, leaving nothing', async () => {
    expect((await refusal(send(body(fileHead(), Buffer.alloc(300, 'x'), '\r\n', end)))).code).toBe(
      'unsupported_image',
    );
    expect((await refusal(send(body(fileHead(), PNG, '\r\n', fileHead(), PNG, '\r\n', end)))).code).toBe(
      'too_many_files',
    );
    const big = Buffer.concat([PNG, Buffer.alloc(options.maxBytes)]);
    expect((await refusal(send(body(fileHead(), big, '\r\n', end)))).code).toBe('file_too_large');
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('LocalBlobStore.write with an input stream that fails', () => {
  it('removes its temporary file and rejects', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'image-upload-store-'));
    try {
      const store = new LocalBlobStore(root);
      const input = new Readable({ read() {} });
      input.push(Buffer.alloc(1024));
      const writing = store.write({ key: 'x/partial.bin' }, input);
      for (let tries = 0; (await filesUnder(root)).length === 0; tries++) {
        if (tries > 200) throw new Error('the store never opened its temporary file');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      input.destroy(new Error('the client went away'));
      await expect(writing).rejects.toBeInstanceOf(StorageError);
      expect(await filesUnder(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
