import type { Broker } from '@conveyor/broker';
import { z } from 'zod';
import type { QueueFigures } from './queue-list.js';

/** Where the figures of a list of queues come from. */
export interface QueueFigureSource {
  readonly name: 'management' | 'amqp';
  figures(queues: readonly string[]): Promise<Map<string, QueueFigures>>;
}

/** AMQP's passive declare: ready messages and consumers only. */
export function amqpFigures(broker: Broker): QueueFigureSource {
  return {
    name: 'amqp',
    async figures(queues) {
      const found = await broker.inspectQueues(queues);
      return new Map(
        [...found].map(([queue, { messages, consumers }]) => [
          queue,
          { messages, ready: null, unacked: null, consumers, rates: null },
        ]),
      );
    },
  };
}

const Rate = z.object({ rate: z.number() }).optional();
const ManagementQueue = z.object({
  name: z.string(),
  messages: z.number().optional(),
  messages_ready: z.number().optional(),
  messages_unacknowledged: z.number().optional(),
  consumers: z.number().optional(),
  message_stats: z.object({ publish_details: Rate, deliver_get_details: Rate, ack_details: Rate }).optional(),
});

/** How long the management API may take to answer, in ms. */
const MANAGEMENT_TIMEOUT_MS = 5_000;

/**
 * RabbitMQ's management HTTP API: one request lists the vhost's queues (a queue just declared
 * may lack its figures for a few seconds; they count as zero). Credentials come from the URL's
 * user and password, sent as Basic auth (fetch refuses URLs that carry them).
 */
export function managementFigures(managementUrl: string, vhost: string): QueueFigureSource {
  const url = new URL(managementUrl);
  const authorization =
    url.username === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  const base = url.toString().replace(/\/$/, '');
  return {
    name: 'management',
    async figures(queues) {
      const wanted = new Set(queues);
      const response = await fetch(
        `${base}/api/queues/${encodeURIComponent(vhost)}?columns=name,messages,messages_ready,messages_unacknowledged,consumers,message_stats`,
        {
          headers: authorization ? { authorization } : {},
          signal: AbortSignal.timeout(MANAGEMENT_TIMEOUT_MS),
        },
      );
      if (!response.ok) throw new Error(`the management API answered ${response.status}`);
      const listed = z.array(ManagementQueue).parse(await response.json());
      const found = new Map<string, QueueFigures>();
      for (const queue of listed) {
        if (!wanted.has(queue.name)) continue;
        const stats = queue.message_stats;
        found.set(queue.name, {
          messages: queue.messages ?? 0,
          ready: queue.messages_ready ?? 0,
          unacked: queue.messages_unacknowledged ?? 0,
          consumers: queue.consumers ?? 0,
          rates: {
            publish: stats?.publish_details?.rate ?? 0,
            deliver: stats?.deliver_get_details?.rate ?? 0,
            ack: stats?.ack_details?.rate ?? 0,
          },
        });
      }
      return found;
    },
  };
}

/** The vhost an AMQP URL names: its path, `/` when it has none. */
export function vhostOf(amqpUrl: string): string {
  const first = amqpUrl.split(',')[0]?.trim() ?? '';
  const path = URL.canParse(first) ? new URL(first).pathname : '';
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
}
