import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { SNIFF_BYTES, sniffImageFormat, type ImageFormat } from '@conveyor/kind-image-resize/contract';
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

/** Longest form field value, in bytes; busboy cuts longer values silently, so a longer one is refused. */
export const FIELD_MAX_BYTES = 4096;
/** Form fields per request: the job's fields are a handful; more is refused rather than dropped. */
const MAX_FIELDS = 20;
/** Parts of any kind (skipped ones count too): the fields and the one file. */
const MAX_PARTS = MAX_FIELDS + 1;

const refuse = (status: number, code: string, message: string, path?: string) =>
  new AppError(code, message, { status, details: path ? [{ path, message }] : undefined });

const aborted = () => refuse(400, 'request_aborted', 'the client closed the request before the upload ended');

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
      this.refusal = refuse(
        415,
        'unsupported_image',
        'the file is not an image in a supported format (jpeg, png, webp, gif, avif, heif, tiff): checked from its bytes, not its name',
        'file',
      );
      return done(this.refusal);
    }
    done(null, this.head);
  }
}

/** busboy throws at construction on a content type it cannot parse: a client's mistake, said as such. */
function openParser(headers: IncomingHttpHeaders, maxBytes: number): busboy.Busboy {
  const contentType = headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    throw refuse(415, 'unsupported_media_type', 'send the image as multipart/form-data with a "file" part');
  }
  try {
    return busboy({
      headers,
      limits: {
        files: 1,
        fileSize: maxBytes,
        fields: MAX_FIELDS,
        fieldSize: FIELD_MAX_BYTES + 1,
        parts: MAX_PARTS + 1,
      },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = /boundary/i.test(reason)
      ? 'the multipart/form-data content type has no boundary parameter (Content-Type: multipart/form-data; boundary=...)'
      : `the multipart/form-data content type could not be read: ${reason}`;
    throw refuse(400, 'malformed_multipart', message, 'headers.content-type');
  }
}

/**
 * Streams a multipart upload straight into blob storage: the file is never held whole in
 * memory. Its format is sniffed from its first bytes; more than `maxBytes` is a 413 and more than
 * one file a 400. Whatever ends the request early (a malformed or truncated body, a client that
 * goes away, a refusal) destroys the file stream, waits for the store's write to fail and deletes
 * what it left: a refused upload leaves no blob, no temporary file and no open descriptor behind,
 * and the returned promise always settles.
 */
export async function receiveImageUpload(
  request: Readable & { headers: IncomingHttpHeaders },
  store: BlobStore,
  options: { bucket: string; maxBytes: number },
): Promise<ParsedUpload> {
  const parser = openParser(request.headers, options.maxBytes);
  // No prototype: a field named __proto__ is kept as a field (and refused as unknown), not dropped.
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  let upload: Promise<StoredUpload> | undefined;
  let sniffer: ImageSniffer | undefined;
  let failure: AppError | undefined;
  /** Records the first refusal and stops storing the file: the rest of the body is drained unread. */
  const fail = (error: AppError) => {
    failure ??= error;
    sniffer?.destroy(failure);
  };

  parser.on('field', (name, value, info) => {
    if (info.nameTruncated || info.valueTruncated) {
      fail(
        refuse(
          413,
          'field_too_large',
          `the form field "${name}" is longer than ${FIELD_MAX_BYTES} bytes`,
          name,
        ),
      );
      return;
    }
    fields[name] = value;
  });
  parser.on('file', (name, file, info) => {
    const skip = (refusal?: AppError) => {
      // busboy destroys a file stream with an error when the body ends inside it: without a
      // listener that error would end the process.
      file.on('error', () => undefined);
      file.resume();
      if (refusal) fail(refusal);
    };
    if (name !== 'file')
      return skip(
        refuse(422, 'unexpected_file', `the file must be sent in the "file" part, not "${name}"`, 'file'),
      );
    const fileName = info.filename;
    if (!fileName)
      return skip(refuse(422, 'empty_file_name', 'the uploaded file has an empty file name', 'file'));
    if (failure) return skip(); // Refused already (a field came first): store nothing.
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
    // The same error reaches the store through the sniffer, which fails the write and removes its temporary file.
    file.on('error', (error: Error) => fileSniffer.destroy(failure ?? error));
    let bytes = 0;
    file.on('data', (chunk: Buffer) => (bytes += chunk.length));
    file.on('limit', () =>
      fail(
        refuse(
          413,
          'file_too_large',
          `the file exceeds the upload limit of ${options.maxBytes} bytes`,
          'file',
        ),
      ),
    );
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
  parser.on('filesLimit', () =>
    fail(refuse(400, 'too_many_files', 'send exactly one file per request', 'file')),
  );
  parser.on('fieldsLimit', () =>
    fail(refuse(400, 'too_many_fields', `send at most ${MAX_FIELDS} form fields`, 'form')),
  );
  // busboy signals the limit once that many parts have been read: one more than allowed.
  parser.on('partsLimit', () =>
    fail(refuse(400, 'too_many_parts', `send at most ${MAX_PARTS} multipart parts`, 'form')),
  );

  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (error: AppError) => {
        reject(error);
        request.unpipe(parser);
        parser.destroy(); // Destroys the file stream too, which fails the store's write.
      };
      parser.on('close', resolve);
      parser.on('error', (error: Error) =>
        stop(refuse(400, 'malformed_multipart', `the multipart body could not be read: ${error.message}`)),
      );
      // An aborted request only emits 'error' when someone listens; 'close' before its end covers the rest.
      request.on('error', () => stop(aborted()));
      request.on('close', () => {
        if (!request.readableEnded) stop(aborted());
      });
      if (request.destroyed) stop(aborted());
      else request.pipe(parser);
    });
  } catch (error) {
    fail(error as AppError);
  }
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
