import { createHash } from 'node:crypto';
import { consumedKindOfQueue } from '@conveyor/broker';
import type { TopologyNames } from '@conveyor/contracts';
import { z } from 'zod';

/** A message as it arrives from the dead-letter queue. */
export interface DeadLetteredMessage {
  body: Buffer;
  routingKey: string;
  messageId: string | undefined;
  headers: Record<string, unknown>;
}

/** What is kept of it (see DeadLetterStore). */
export interface NewDeadLetter {
  messageId: string;
  queue: string;
  kind: string;
  jobId: string | null;
  exchange: string;
  routingKey: string;
  reason: { code: string; message: string };
  attempts: number;
  body: string;
  headers: Record<string, unknown>;
}

/** One entry of the broker's x-death header (amqplib decodes it as an array of tables). */
const XDeath = z.object({
  queue: z.string(),
  reason: z.string(),
  count: z.number().optional(),
  exchange: z.string().optional(),
});

const JobPayload = z.object({ payload: z.object({ jobId: z.uuid() }) });

/**
 * Reads a dead letter's story from its headers: the consumer's own (`x-error-code`,
 * `x-error-message`, `x-original-queue`, `x-attempts`, see message-consumer.ts) when a handler
 * gave up, else the broker's `x-death` (a delivery limit, or a rejection) with the delivery
 * count quorum queues keep. A message without an id gets one from its body, so a redelivery of
 * it is still recognised.
 */
export function describeDeadLetter(names: TopologyNames, message: DeadLetteredMessage): NewDeadLetter {
  const { headers } = message;
  const text = message.body.toString('utf8');
  const death = firstDeath(headers);
  const queue = stringHeader(headers, 'x-original-queue') ?? death?.queue ?? 'unknown';
  const handlerCode = stringHeader(headers, 'x-error-code');
  const reason = handlerCode
    ? { code: handlerCode, message: stringHeader(headers, 'x-error-message') ?? '' }
    : brokerReason(death);
  const attempts =
    numberHeader(headers, 'x-attempts') ?? numberHeader(headers, 'x-delivery-count') ?? death?.count ?? 0;
  const kind = consumedKindOfQueue(names, queue) ?? 'unknown';
  return {
    messageId: message.messageId ?? `sha256:${createHash('sha256').update(message.body).digest('hex')}`,
    queue,
    kind,
    jobId: kind === 'object-check' ? null : jobIdOf(text),
    exchange: death?.exchange ?? '',
    routingKey: message.routingKey,
    reason,
    attempts: Math.max(0, Math.trunc(attempts)),
    body: text,
    headers: jsonSafe(headers),
  };
}

function brokerReason(death: z.infer<typeof XDeath> | undefined): { code: string; message: string } {
  if (!death) return { code: 'unknown', message: 'dead-lettered without a reason in its headers' };
  switch (death.reason) {
    case 'delivery_limit':
      return {
        code: 'delivery_limit',
        message: `RabbitMQ gave up after the delivery limit of ${death.queue}: consumers kept dying or returning it`,
      };
    case 'rejected':
      return { code: 'rejected', message: `a consumer of ${death.queue} rejected it without requeue` };
    case 'expired':
      return { code: 'expired', message: `its TTL ran out in ${death.queue}` };
    case 'maxlen':
      return { code: 'maxlen', message: `${death.queue} was full` };
    default:
      return { code: death.reason, message: `RabbitMQ dead-lettered it from ${death.queue}` };
  }
}

function firstDeath(headers: Record<string, unknown>): z.infer<typeof XDeath> | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths)) return undefined;
  // The newest death comes first; the retry tiers' expiries are deaths too, so skip those.
  for (const death of deaths) {
    const parsed = XDeath.safeParse(death);
    if (parsed.success && parsed.data.reason !== 'expired') return parsed.data;
  }
  const parsed = XDeath.safeParse(deaths[0]);
  return parsed.success ? parsed.data : undefined;
}

function stringHeader(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function numberHeader(headers: Record<string, unknown>, name: string): number | undefined {
  const value = headers[name];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

function jobIdOf(body: string): string | null {
  try {
    const parsed = JobPayload.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.payload.jobId : null;
  } catch {
    return null;
  }
}

/** Headers as JSON can hold them (Buffers as text, bigints as numbers). */
function jsonSafe(headers: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(headers, (_key, value: unknown) => {
    if (typeof value === 'bigint') return Number(value);
    if (
      typeof value === 'object' &&
      value !== null &&
      'type' in value &&
      value.type === 'Buffer' &&
      'data' in value &&
      Array.isArray(value.data)
    )
      return Buffer.from(value.data.filter((byte): byte is number => typeof byte === 'number')).toString(
        'utf8',
      );
    return value;
  });
  const parsed: unknown = JSON.parse(text);
  return z.record(z.string(), z.unknown()).parse(parsed);
}
