import { createEnvelope, workMessage, type OutgoingMessage } from '@conveyor/broker';
import {
  jobEventRoutingKey,
  jobMessageKind,
  type JobEvent,
  type JobKind,
  type TopologyNames,
} from '@conveyor/contracts';
import type { JobRecord } from './job-record.js';

/** The work message that makes a consumer run the job, with its trace's `traceparent` header when traced. */
export function jobRunMessage(
  names: TopologyNames,
  job: { id: string; kind: JobKind; traceParent?: string | null },
  correlationId: string,
): OutgoingMessage {
  const message = workMessage(
    names,
    createEnvelope(jobMessageKind(job.kind), { jobId: job.id }, correlationId),
  );
  return job.traceParent ? { ...message, headers: { traceparent: job.traceParent } } : message;
}

/** The event describing the job's current state (its latest sequence). */
export function jobEventOf(job: JobRecord, eventId: string, occurredAt: Date): JobEvent {
  return {
    eventId,
    jobId: job.id,
    clientId: job.clientId,
    kind: job.kind,
    customId: job.customId,
    status: job.status,
    sequence: job.sequence,
    progress: job.progress,
    result: job.result ?? null,
    error: job.error,
    callbackUrl: job.callbackUrl,
    occurredAt: occurredAt.toISOString(),
  };
}

export function jobEventMessage(
  names: TopologyNames,
  event: JobEvent,
  correlationId: string,
): OutgoingMessage {
  const envelope = createEnvelope('job.event', event, correlationId);
  return {
    exchange: names.eventsExchange,
    routingKey: jobEventRoutingKey(event.kind, event.status),
    messageId: event.eventId,
    correlationId,
    type: envelope.kind,
    body: Buffer.from(JSON.stringify(envelope)),
  };
}
