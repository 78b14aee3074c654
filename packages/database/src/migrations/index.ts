import type { Migration } from 'kysely';
import * as objects from './20261123_1200_objects.js';
import * as outbox from './20261123_1210_outbox.js';
import * as jobs from './20261123_1300_jobs.js';
import * as jobExpiry from './20261123_1400_job_expiry.js';
import * as webhooks from './20261123_1500_webhooks.js';
import * as webhookRecordEvents from './20261123_1610_webhook_record_events.js';
import * as webhookPlans from './20261123_1620_webhook_plans.js';
import * as webhookRecordEventsPlan from './20261123_1630_webhook_record_events_plan.js';
import * as webhookClaimIndexes from './20261207_0200_webhook_claim_indexes.js';
import * as apiClientRevocation from './20261207_1800_api_client_revocation.js';
import * as jobKinds from './20261207_1900_job_kinds.js';
import * as jobDispatch from './20261207_2200_job_dispatch.js';
import * as jobTraceParent from './20261208_0100_job_trace_parent.js';
import * as idempotencyKeys from './20261208_0200_idempotency_keys.js';
import * as retentionIndexes from './20261208_0300_retention_indexes.js';
import * as clientLimits from './20261208_0400_client_limits.js';
import * as operator from './20261208_0450_operator.js';
import * as scheduling from './20261208_0500_scheduling.js';
import * as jobPolicy from './20261208_0600_job_policy.js';

/** Every migration, in order. Names are timestamp-prefixed and never change once released. */
export const migrations: Record<string, Migration> = {
  '20261123_1200_objects': objects,
  '20261123_1210_outbox': outbox,
  '20261123_1300_jobs': jobs,
  '20261123_1400_job_expiry': jobExpiry,
  '20261123_1500_webhooks': webhooks,
  '20261123_1610_webhook_record_events': webhookRecordEvents,
  '20261123_1620_webhook_plans': webhookPlans,
  '20261123_1630_webhook_record_events_plan': webhookRecordEventsPlan,
  '20261207_0200_webhook_claim_indexes': webhookClaimIndexes,
  '20261207_1800_api_client_revocation': apiClientRevocation,
  '20261207_1900_job_kinds': jobKinds,
  '20261207_2200_job_dispatch': jobDispatch,
  '20261208_0100_job_trace_parent': jobTraceParent,
  '20261208_0200_idempotency_keys': idempotencyKeys,
  '20261208_0300_retention_indexes': retentionIndexes,
  '20261208_0400_client_limits': clientLimits,
  '20261208_0450_operator': operator,
  '20261208_0500_scheduling': scheduling,
  '20261208_0600_job_policy': jobPolicy,
};
