import type {
  CreateClientRequest,
  CreatedClient,
  JobHistory,
  JobListQuery,
  JobPage,
  JobStats,
  Overview,
} from '@conveyor/contracts';
import type { FitMode, OutputFormat } from '@conveyor/kind-image-resize/contract';
import { ApiTransport, type TransportOptions } from './http/api-transport.js';
import { ConveyorNetworkError } from './http/errors.js';
import type { DeliveryLog, Redelivery, RotatedSecret } from './jobs/deliveries.js';
import type { InputOf, Job, KindName, SubmittableKind } from './jobs/job-kinds.js';
import { readJobResult, type FileJobResult, type JobResult, type JsonJobResult } from './jobs/job-result.js';
import { waitForJob, type WaitOptions } from './jobs/wait-for-job.js';
import { DeadLetterCalls, QueueCalls, readOverview, WorkerCalls } from './operator/operator-calls.js';

export type ConveyorClientOptions = TransportOptions;

export interface SubmitOptions {
  /** Your own id for the job, unique per client: the same request with it returns the same job. */
  customId?: string | undefined;
  /** Where the notifier pushes each status change (signed; see verifyWebhook). */
  callbackUrl?: string | undefined;
  /**
   * Sent as the `Idempotency-Key` header: a repeat of the same submit with the same key gets the
   * first answer again (never a second job), the same key with another body a 422. With it (or a
   * customId) a submit whose answer was lost on the network is sent again once instead of failing.
   */
  idempotencyKey?: string | undefined;
  /** Run at this time (a Date, or RFC 3339 with an offset) rather than now: `scheduled` until then. */
  runAt?: Date | string | undefined;
  /** Run this many ms from now; give runAt or delayMs, not both. */
  delayMs?: number | undefined;
  /** This job's timeout per attempt, at most its kind's. */
  timeoutMs?: number | undefined;
  /** This job's most attempts (the first included), at most its kind's. */
  maxAttempts?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImageUploadOptions {
  width: number;
  height: number;
  fit?: FitMode | undefined;
  format?: OutputFormat | undefined;
  quality?: number | undefined;
  keepMetadata?: boolean | undefined;
  /** Sent as the file part's name; the format is sniffed from the bytes, never from the name. */
  fileName?: string | undefined;
  customId?: string | undefined;
  callbackUrl?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type JobFilters = Partial<Pick<JobListQuery, 'status' | 'kind' | 'customId' | 'clientId'>> & {
  /** Jobs fetched per request (1..100). Default 20. */
  pageSize?: number | undefined;
};

/**
 * The Conveyor API, typed from its contracts. Every call rejects with a ConveyorError (the API's
 * code, message, details, status and correlation id) or a ConveyorNetworkError.
 */
export class ConveyorClient {
  private readonly transport: ApiTransport;
  readonly deadLetters: DeadLetterCalls;
  readonly queues: QueueCalls;
  readonly workers: WorkerCalls;

  constructor(options: ConveyorClientOptions) {
    this.transport = new ApiTransport(options);
    this.deadLetters = new DeadLetterCalls(this.transport);
    this.queues = new QueueCalls(this.transport);
    this.workers = new WorkerCalls(this.transport);
  }

  /** Submits a job (`POST /v1/jobs`): it is durable once this resolves. */
  async submit<K extends KindName>(
    kind: SubmittableKind<K>,
    input: InputOf<K>,
    options: SubmitOptions = {},
  ): Promise<Job<K>> {
    const { customId, idempotencyKey } = options;
    const request = {
      method: 'POST' as const,
      path: '/v1/jobs',
      body: {
        kind,
        input,
        customId,
        callbackUrl: options.callbackUrl,
        runAt: options.runAt instanceof Date ? options.runAt.toISOString() : options.runAt,
        delayMs: options.delayMs,
        timeoutMs: options.timeoutMs,
        retry: options.maxAttempts === undefined ? undefined : { maxAttempts: options.maxAttempts },
      },
      headers: idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey },
      signal: options.signal,
    };
    try {
      return await this.transport.json<Job<K>>(request);
    } catch (error) {
      // Without a key or a customId a resend could create a second job; with one it cannot.
      if (
        !(error instanceof ConveyorNetworkError) ||
        (customId === undefined && idempotencyKey === undefined)
      )
        throw error;
      return this.transport.json<Job<K>>(request);
    }
  }

  /** Uploads an image to resize (`POST /v1/images`, multipart); the job's result is the resized file. */
  async uploadImage(file: Blob, options: ImageUploadOptions): Promise<Job<'image-resize'>> {
    const form = new FormData();
    const fields = {
      width: options.width,
      height: options.height,
      fit: options.fit,
      format: options.format,
      quality: options.quality,
      keepMetadata: options.keepMetadata,
      customId: options.customId,
      callbackUrl: options.callbackUrl,
    };
    // Fields before the file: the API reads the form as a stream, in order.
    for (const [name, value] of Object.entries(fields))
      if (value !== undefined) form.append(name, String(value));
    form.append('file', file, options.fileName ?? 'image');
    return this.transport.json({ method: 'POST', path: '/v1/images', body: form, signal: options.signal });
  }

  get<K extends string = KindName>(id: string, options: { signal?: AbortSignal } = {}): Promise<Job<K>> {
    return this.transport.json({ path: jobPath(id), signal: options.signal });
  }

  /** One page of jobs, newest first. */
  page(filters: JobFilters & { cursor?: string | undefined } = {}): Promise<JobPage> {
    const { pageSize, ...query } = filters;
    return this.transport.json({ path: '/v1/jobs', query: { ...query, limit: pageSize } });
  }

  /** Every job matching the filters, newest first, fetching page after page as you iterate. */
  async *list(filters: JobFilters = {}): AsyncGenerator<Job> {
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...filters, cursor });
      yield* page.jobs;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Resolves with the job once it is final (succeeded, failed or cancelled: check `status`),
   * following its live stream or polling as the API's Retry-After says.
   */
  wait<K extends string>(job: Job<K>, options?: WaitOptions<K>): Promise<Job<K>>;
  wait<K extends string = KindName>(id: string, options?: WaitOptions<K>): Promise<Job<K>>;
  wait<K extends string>(job: string | Job<K>, options: WaitOptions<K> = {}): Promise<Job<K>> {
    return waitForJob<K>(this.transport, typeof job === 'string' ? job : job.id, options);
  }

  /** Cancels a job: at once when queued, at its next check when running (status still `running`). */
  cancel<K extends string = KindName>(id: string): Promise<Job<K>> {
    return this.transport.json({ method: 'DELETE', path: jobPath(id) });
  }

  /** Runs a failed or cancelled job again (same id); 409 `job_not_retryable` otherwise. */
  retry<K extends string = KindName>(id: string): Promise<Job<K>> {
    return this.transport.json({ method: 'POST', path: `${jobPath(id)}/retry` });
  }

  /** A succeeded job's result: JSON, or for image jobs the file as a stream. */
  result<K extends string>(job: Job<K>): Promise<JobResult<K>>;
  result(id: string): Promise<JsonJobResult | FileJobResult>;
  async result(job: string | Job): Promise<JsonJobResult | FileJobResult> {
    return readJobResult(this.transport, typeof job === 'string' ? await this.get(job) : job);
  }

  /** A job's history: status changes, progress and webhook attempts, oldest first. */
  events(id: string): Promise<JobHistory> {
    return this.transport.json({ path: `${jobPath(id)}/events` });
  }

  deliveries(id: string): Promise<DeliveryLog> {
    return this.transport.json({ path: `${jobPath(id)}/deliveries` });
  }

  redeliver(id: string): Promise<Redelivery> {
    return this.transport.json({ method: 'POST', path: `${jobPath(id)}/deliveries/redeliver` });
  }

  /** Job counts per status and kind (every client's for an operator key). */
  stats(): Promise<JobStats> {
    return this.transport.json({ path: '/v1/stats' });
  }

  /** Every client's jobs and the backlogs an operator watches (operator keys only). */
  overview(): Promise<Overview> {
    return readOverview(this.transport);
  }

  /** A new webhook signing secret for this key's client; the previous one keeps signing for a while. */
  rotateWebhookSecret(): Promise<RotatedSecret> {
    return this.transport.json({ method: 'POST', path: '/v1/webhook-secret/rotate' });
  }

  /** Registers an API client (operator keys only); its key and secret are shown this once. */
  createClient(request: {
    name: string;
    role?: CreateClientRequest['role'] | undefined;
  }): Promise<CreatedClient> {
    return this.transport.json({ method: 'POST', path: '/v1/clients', body: request });
  }
}

function jobPath(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}
