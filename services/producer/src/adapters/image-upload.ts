import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { SNIFF_BYTES, sniffImageFormat, type ImageFormat } from '@conveyor/contracts';
import { AppError } from '@conveyor/platform';
import type { BlobLocation, BlobStore } from '@conveyor/storage';

export interface StoredUpload {
  location: BlobLocation;
  format: ImageFormat;
  bytes: number;
  fileName: string;
}

export interface ParsedUpload {
  fields: Record<string, string>;
  /** Undefined when the request carried no file part. */
  file: StoredUpload | undefined;
}

const refuse = (status: number, code: string, message: string, path?: string) =>
  new AppError(code, message, { status, details: path ? [{ path, message }] : undefined });

/** Passes bytes through, refusing the stream unless its first bytes are a known image format. */
class ImageSniffer extends Transform {
  format: ImageFormat | undefined;
  /** Set when the bytes are not an image; the storage layer wraps stream errors, so keep the original. */
  refusal: AppError | undefined;
  private head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.format === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < SNIFF_BYTES) return done();
      return this.decide(done);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.format === undefined) return this.decide(done);
    done();
  }

  private decide(done: TransformCallback): void {
    this.format = sniffImageFormat(this.head);
    if (!this.format) {
      this.refusal = refuse(415, 'unsupported_image', 'the file is not an image in a supported format (jpeg, png, webp, gif, avif, heif, tiff): checked from its bytes, not its name', 'file');
      return done(this.refusal);
    }
    done(null, this.head);
  }
}

/**
 * Streams a multipart upload straight into blob storage: the file is never held whole in
 * memory. Its format is sniffed from its first bytes; more than `maxBytes` is a 413 and more than
 * one file a 400, and a refused upload leaves no blob behind.
 */
export async function receiveImageUpload(
  request: Readable & { headers: IncomingHttpHeaders },
  store: BlobStore,
  options: { bucket: string; maxBytes: number },
): Promise<ParsedUpload> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    throw refuse(415, 'unsupported_media_type', 'send the image as multipart/form-data with a "file" part');
  }
  const fields: Record<string, string> = {};
  let upload: Promise<StoredUpload> | undefined;
  let sniffer: ImageSniffer | undefined;
  let failure: AppError | undefined;
  const parser = busboy({ headers: request.headers, limits: { files: 1, fileSize: options.maxBytes, fields: 20, fieldSize: 4096 } });

  parser.on('field', (name, value) => {
    fields[name] = value;
  });
  parser.on('file', (name, file, info) => {
    if (name !== 'file') {
      file.resume();
      failure ??= refuse(422, 'unexpected_file', `the file must be sent in the "file" part, not "${name}"`, 'file');
      return;
    }
    const fileName = info.filename;
    if (!fileName) {
      file.resume();
      failure ??= refuse(422, 'empty_file_name', 'the uploaded file has an empty file name', 'file');
      return;
    }
    const location: BlobLocation = { bucket: options.bucket, key: `originals/${randomUUID()}` };
    const fileSniffer = new ImageSniffer();
    sniffer = fileSniffer;
    // The store may attach its listeners only after an await (creating folders); until then an
    // early refusal must not be an unhandled 'error' event. The store still sees it via the stream.
    fileSniffer.on('error', () => undefined);
    // busboy finishes the form only once the file stream has ended; when the store stops reading
    // early (a refusal, the size limit, a failed write), the rest of the part is drained unread.
    fileSniffer.once('close', () => {
      file.unpipe(fileSniffer);
      file.resume();
    });
    let bytes = 0;
    file.on('data', (chunk: Buffer) => (bytes += chunk.length));
    file.on('limit', () => {
      failure ??= refuse(413, 'file_too_large', `the file exceeds the upload limit of ${options.maxBytes} bytes`, 'file');
      fileSniffer.destroy(failure);
    });
    file.pipe(fileSniffer);
    upload = store.write(location, fileSniffer, { contentType: info.mimeType }).then(
      () => ({ location, format: fileSniffer.format!, bytes, fileName }),
      async (error: unknown) => {
        await store.delete(location).catch(() => undefined);
        throw error;
      },
    );
    // Awaited below once the whole body is parsed; until then a rejection must not count as unhandled.
    upload.catch(() => undefined);
  });
  parser.on('filesLimit', () => {
    failure ??= refuse(400, 'too_many_files', 'send exactly one file per request', 'file');
  });

  await new Promise<void>((resolve, reject) => {
    parser.on('close', resolve);
    parser.on('error', (error: Error) => reject(refuse(400, 'malformed_multipart', `the multipart body could not be read: ${error.message}`)));
    request.pipe(parser);
  });
  let file: StoredUpload | undefined;
  try {
    file = await upload;
  } catch (error) {
    throw failure ?? sniffer?.refusal ?? error;
  }
  if (failure) {
    if (file) await store.delete(file.location).catch(() => undefined);
    throw failure;
  }
  return { fields, file };
}
