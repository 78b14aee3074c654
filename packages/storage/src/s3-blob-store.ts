import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Readable } from 'node:stream';
import {
  abortedError,
  collectBlob,
  StorageError,
  type BlobInfo,
  type BlobLocation,
  type BlobStore,
  type ReadAllOptions,
  type ReadOptions,
  type WriteOptions,
} from './blob-store.js';
import {
  readResumably,
  type RangeResponse,
  type RangeSource,
  type ResumePolicy,
} from './resumable-reader.js';
import { classifyS3Error, describeS3Error, permanentS3Error, storageErrorFromS3 } from './s3-errors.js';

export interface S3StoreOptions {
  /** e.g. http://127.0.0.1:9000 for MinIO or s3rver; unset for AWS. */
  endpoint?: string;
  region: string;
  /** Both or neither; neither uses the SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (http://host/bucket/key), which local S3 servers need. */
  forcePathStyle: boolean;
  /** SDK attempts per request (first included). They only cover failures before the response
   * headers; read() resumes broken bodies itself. Default: the SDK's (3). */
  maxAttempts?: number;
  /** Longest a socket may stay silent, before the headers or in the middle of a body, before the
   * request fails; this is what turns a stalled body into a retryable error. Default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Consecutive failed read attempts without progress before read() gives up. Default 8. */
  maxReadFailures?: number;
  /** Backoff between read attempts: doubling from retryBaseMs up to retryMaxMs, jittered. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_RESUME_POLICY: ResumePolicy = { maxFailures: 8, retryBaseMs: 200, retryMaxMs: 10_000 };
/** Upload buffers up to PART_BYTES × PARTS_IN_FLIGHT (32 MiB) per write. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_PARTS_IN_FLIGHT = 4;

interface S3Object {
  bucket: string;
  key: string;
  /** s3://bucket/key, for messages. */
  name: string;
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly resumePolicy: ResumePolicy;

  constructor(options: S3StoreOptions) {
    this.client = createS3Client(options);
    this.resumePolicy = {
      maxFailures: options.maxReadFailures ?? DEFAULT_RESUME_POLICY.maxFailures,
      retryBaseMs: options.retryBaseMs ?? DEFAULT_RESUME_POLICY.retryBaseMs,
      retryMaxMs: options.retryMaxMs ?? DEFAULT_RESUME_POLICY.retryMaxMs,
    };
  }

  async stat(location: BlobLocation): Promise<BlobInfo> {
    const object = s3Object(location);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag ?? '',
        lastModified: head.LastModified ?? new Date(0),
        contentType: head.ContentType,
      };
    } catch (error) {
      throw storageErrorFromS3(error, 'HeadObject', object.name);
    }
  }

  async *read(location: BlobLocation, options: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    yield* readResumably(new S3RangeSource(this.client, s3Object(location)), this.resumePolicy, options);
  }

  readAll(location: BlobLocation, options: ReadAllOptions): Promise<Buffer> {
    return collectBlob(
      this.read(location, { signal: options.signal }),
      options.maxBytes,
      s3Object(location).name,
    );
  }

  /** Multipart upload of a stream of unknown length; an aborted or failed upload removes its parts. */
  async write(
    location: BlobLocation,
    body: NodeJS.ReadableStream | Buffer,
    options: WriteOptions = {},
  ): Promise<BlobInfo> {
    const object = s3Object(location);
    const { signal } = options;
    if (signal?.aborted) throw abortedError(signal, `writing ${object.name}`);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: object.bucket,
        Key: object.key,
        Body: asUploadBody(body),
        ContentType: options.contentType,
      },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    const abortUpload = () => void upload.abort();
    signal?.addEventListener('abort', abortUpload, { once: true });
    try {
      await upload.done();
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `writing ${object.name}`);
      throw storageErrorFromS3(error, 'Upload', object.name);
    } finally {
      signal?.removeEventListener('abort', abortUpload);
    }
    // The upload's own result lacks size and date (and differs between single and multipart).
    return this.stat(location);
  }

  /** Deleting a missing key succeeds; a missing bucket is still `not_found` (a misconfiguration). */
  async delete(location: BlobLocation): Promise<void> {
    const object = s3Object(location);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key }));
    } catch (error) {
      // S3 itself answers 204 for a missing key; some compatible servers answer NoSuchKey.
      if ((error as Error).name === 'NoSuchKey') return;
      throw storageErrorFromS3(error, 'DeleteObject', object.name);
    }
  }

  /** Closes pooled connections; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }
}

function createS3Client(options: S3StoreOptions): S3Client {
  const { accessKeyId, secretAccessKey } = options;
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    maxAttempts: options.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      socketTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    }),
    // Local S3 servers mishandle the newer default trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function s3Object(location: BlobLocation): S3Object {
  const { bucket, key } = location;
  if (!bucket) throw new StorageError('invalid_location', `S3 location for key "${key}" has no bucket`);
  if (key === '')
    throw new StorageError('invalid_location', `S3 location in bucket "${bucket}" has an empty key`);
  return { bucket, key, name: `s3://${bucket}/${key}` };
}

function asUploadBody(body: NodeJS.ReadableStream | Buffer): Buffer | Readable {
  if (Buffer.isBuffer(body) || body instanceof Readable) return body;
  return new Readable().wrap(body);
}

/** GetObject requests for one object, in the shape the resumable reader expects. */
class S3RangeSource implements RangeSource {
  readonly name: string;

  constructor(
    private readonly client: S3Client,
    private readonly object: S3Object,
  ) {
    this.name = object.name;
  }

  async open(fromByte: number, ifMatch: string | undefined, signal: AbortSignal): Promise<RangeResponse> {
    const response = await this.client.send(
      new GetObjectCommand({
        Bucket: this.object.bucket,
        Key: this.object.key,
        // The first request asks for the whole object: some servers mishandle small or suffix ranges.
        Range: fromByte > 0 ? `bytes=${fromByte}-` : undefined,
        IfMatch: ifMatch || undefined,
      }),
      { abortSignal: signal },
    );
    const body = response.Body as Readable | undefined;
    if (!body) throw new Error(`GetObject ${this.name} returned no body`);
    // The SDK stops watching the signal once headers arrived; a streaming body is ours to stop.
    const destroyBody = () => body.destroy();
    if (signal.aborted) destroyBody();
    else signal.addEventListener('abort', destroyBody, { once: true });
    return { body, etag: response.ETag ?? '', ...byteRangeOf(response, this.name) };
  }

  permanentError(error: unknown): Error | undefined {
    if (classifyS3Error(error) === 'precondition_failed') {
      return new StorageError(
        'object_changed',
        `${this.name} was replaced while being read (${describeS3Error(error)}); read it again from the start`,
        {
          cause: error,
        },
      );
    }
    return permanentS3Error(error, 'GetObject', this.name);
  }
}

/** Where the response starts and how big the whole object is, from Content-Range or, for a
 * whole-object response, Content-Length. */
function byteRangeOf(response: GetObjectCommandOutput, name: string): { start: number; totalBytes: number } {
  if (response.ContentRange) {
    const match = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.ContentRange);
    if (!match)
      throw new StorageError(
        'object_changed',
        `GetObject ${name}: unusable Content-Range "${response.ContentRange}"`,
      );
    return { start: Number(match[1]), totalBytes: Number(match[2]) };
  }
  if (response.ContentLength === undefined) throw new Error(`GetObject ${name} returned no Content-Length`);
  return { start: 0, totalBytes: response.ContentLength };
}
