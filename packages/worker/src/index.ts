export { defineJob } from './job-definition.js';
export type {
  JobContext,
  JobDefinition,
  JobLogger,
  JsonSchema,
  RetryPolicy,
  Schema,
  ZodSchemaLike,
} from './job-definition.js';
export { PermanentJobError, RetryJobError, classifyJobError } from './job-errors.js';
export type { JobErrorClass, JobFailureDetail } from './job-errors.js';
export { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy.js';
export type { NormalizedRetryPolicy } from './retry-policy.js';
export {
  JobModuleError,
  KIND_PATTERN,
  loadJobDefinitions,
  loadJobModule,
  loadJobModules,
} from './job-module.js';
export type { LoadedJobKind } from './job-module.js';
export { createJsonSchemaValidator } from './job-schema.js';
export type { SchemaIssue, SchemaValidation } from './job-schema.js';
export { JobThreadPool } from './job-thread-pool.js';
export type { JobThreadPoolOptions } from './job-thread-pool.js';
export { runJob } from './run-job.js';
