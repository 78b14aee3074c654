import type { MessageEnvelope, TopologyNames } from '@conveyor/contracts';
import type { Broker } from './broker.js';
import type { BindingSpec, QueueSpec } from './topology-spec.js';

/**
 * Retry tiers: a message that failed transiently waits in a tier, a quorum queue of its own with
 * a fixed TTL, whose expiry dead-letters it back to the work exchange under its original routing
 * key. One queue per delay, so a long wait never holds up a short one (per-message TTLs on one
 * queue expire only at its head). Everything about tiers lives here: the delays, their queues and
 * bindings, which tier a failure goes to, and the republish into it. The default delays are the
 * configuration's (DEFAULT_RETRY_TIERS_MS in @conveyor/platform, RETRY_DELAYS_MS).
 */

/** Header that selects a tier on the (headers-type) retry exchange. Headers exchanges ignore names starting with "x-", hence no prefix. */
export const RETRY_TIER_HEADER = 'conveyor-retry-tier';

/** The tier for a message that has failed `attempt + 1` times: delays grow, then stay at the longest. */
export function tierForAttempt(attempt: number, tiersMs: readonly number[]): number {
  const delay = tiersMs[Math.min(attempt, tiersMs.length - 1)];
  if (delay === undefined) throw new Error('at least one retry tier is required');
  return delay;
}

/** The shortest tier of at least `delayMs` (the longest when none is): "retry after" rounds up to a queue. */
export function tierAtLeast(delayMs: number, tiersMs: readonly number[]): number {
  const sorted = [...tiersMs].sort((a, b) => a - b);
  const tier = sorted.find((d) => d >= delayMs) ?? sorted[sorted.length - 1];
  if (tier === undefined) throw new Error('at least one retry tier is required');
  return tier;
}

/**
 * The tiers' queues and their bindings to the retry exchange. `quorumArguments` are the work
 * queues' own (at-least-once dead-lettering, reject-publish overflow).
 */
export function retryTierTopology(
  names: TopologyNames,
  tiersMs: readonly number[],
  quorumArguments: (extra: Record<string, unknown>) => Record<string, unknown>,
): { queues: QueueSpec[]; bindings: BindingSpec[] } {
  const tiers = [...new Set(tiersMs)];
  return {
    queues: tiers.map((delayMs) => ({
      name: names.retryQueue(delayMs),
      arguments: quorumArguments({ 'x-message-ttl': delayMs, 'x-dead-letter-exchange': names.workExchange }),
    })),
    bindings: tiers.map((delayMs) => ({
      queue: names.retryQueue(delayMs),
      exchange: names.retryExchange,
      routingKey: '',
      arguments: { 'x-match': 'all', [RETRY_TIER_HEADER]: String(delayMs) },
    })),
  };
}

/**
 * Sends a copy of the message, its attempt counted, into the tier, confirmed before the caller
 * acknowledges the original: a crash in between redelivers the original, never loses it.
 */
export async function publishToTier(
  broker: Broker,
  names: TopologyNames,
  message: { routingKey: string; envelope: MessageEnvelope; delayMs: number; error: string },
): Promise<void> {
  const next: MessageEnvelope = { ...message.envelope, attempt: message.envelope.attempt + 1 };
  await broker.publish(names.retryExchange, message.routingKey, Buffer.from(JSON.stringify(next)), {
    messageId: next.messageId,
    headers: { [RETRY_TIER_HEADER]: String(message.delayMs), 'x-last-error': message.error.slice(0, 500) },
  });
}
