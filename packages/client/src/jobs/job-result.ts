import { ConveyorError } from '../http/errors.js';
import type { ApiTransport } from '../http/api-transport.js';
import type { Job, ResultOf } from './job-kinds.js';

/** A JSON kind's result. */
export interface JsonJobResult<T = unknown> {
  type: 'json';
  value: T;
}

/** A file result (image-resize): stream it, or read it whole with `bytes()`. */
export interface FileJobResult {
  type: 'file';
  contentType: string;
  /** Bytes, when the API said (it does for images). */
  contentLength: number | undefined;
  etag: string | undefined;
  /** The body; read it once, either here or through `bytes()`. */
  stream: ReadableStream<Uint8Array>;
  bytes(): Promise<Uint8Array>;
}

export type JobResult<K extends string = string> = K extends 'image-resize'
  ? FileJobResult
  : string extends K
    ? JsonJobResult | FileJobResult
    : JsonJobResult<ResultOf<K>>;

/** Kinds whose result is a file served by GET /v1/jobs/{id}/result rather than JSON in the job. */
const FILE_RESULT_KINDS: ReadonlySet<string> = new Set(['image-resize']);

/**
 * A finished job's result: the JSON result for JSON kinds, the file streamed from
 * `/v1/jobs/{id}/result` for file kinds. A job without a result yet is a 404 `result_not_ready`,
 * as the API answers for files.
 */
export async function readJobResult(
  transport: ApiTransport,
  job: Job,
): Promise<JsonJobResult | FileJobResult> {
  if (job.expired)
    throw new ConveyorError({
      code: 'result_expired',
      message: `the result of job ${job.id} has expired and was deleted`,
      status: 410,
    });
  if (job.status !== 'succeeded')
    throw new ConveyorError({
      code: 'result_not_ready',
      message: `job ${job.id} has no result (status ${job.status}${job.error ? `: ${job.error.message}` : ''})`,
      status: 404,
    });
  if (!FILE_RESULT_KINDS.has(job.kind)) return { type: 'json', value: job.result };
  const path = `/v1/jobs/${encodeURIComponent(job.id)}/result`;
  const { response } = await transport.send({ path, headers: { accept: '*/*' } });
  const body = response.body;
  if (!body) throw new ConveyorError({ code: 'empty_result', message: `${path} sent no body`, status: 502 });
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  return {
    type: 'file',
    contentType: response.headers.get('content-type') ?? 'application/octet-stream',
    contentLength: Number.isFinite(length) ? length : undefined,
    etag: response.headers.get('etag') ?? undefined,
    stream: body,
    bytes: async () => new Uint8Array(await new Response(body).arrayBuffer()),
  };
}
