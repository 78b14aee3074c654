// The browser-safe entry: fetch, Web Crypto and ReadableStream only. Node-only helpers (the
// webhook receiver for node:http and express) are in '@conveyor/client/node'.
export {
  ConveyorClient,
  type ConveyorClientOptions,
  type ImageUploadOptions,
  type JobFilters,
  type SubmitOptions,
} from './conveyor-client.js';
export { ConveyorError, ConveyorNetworkError, type ErrorDetail } from './http/errors.js';
export type {
  BuiltInJobKinds,
  InputOf,
  Job,
  JobKinds,
  KindName,
  ResultOf,
  SubmittableKind,
} from './jobs/job-kinds.js';
export type { FileJobResult, JobResult, JsonJobResult } from './jobs/job-result.js';
export type { WaitOptions } from './jobs/wait-for-job.js';
export type { DeliveryLog, Redelivery, RotatedSecret, WebhookDelivery } from './jobs/deliveries.js';
export type {
  DeadLetterFilters,
  DeadLetterCalls,
  QueueCalls,
  WorkerCalls,
} from './operator/operator-calls.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookHeaderSource,
  type WebhookPayload,
  type WebhookVerificationCode,
} from './webhooks/verify-webhook.js';
export type {
  CreatedClient,
  DeadLetter,
  DeadLetterDetail,
  DeadLetterPage,
  DeadLetterSelection,
  JobHistory,
  JobHistoryEntry,
  JobProgress,
  JobStats,
  JobStatus,
  Overview,
  PauseState,
  QueueInfo,
  QueueList,
  WorkerHost,
  WorkerList,
} from '@conveyor/contracts';
