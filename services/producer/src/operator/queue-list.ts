import { JOB_EVENTS, OBJECT_CHECK, workQueueOf } from '@conveyor/broker';
import type { QueueInfo, TopologyNames } from '@conveyor/contracts';

/** A queue of the topology: its name, what it is for and, for a work queue, its kind. */
export interface TopologyQueue {
  name: string;
  role: QueueInfo['role'];
  kind: string | null;
}

/** What a source tells of a queue (see QueueInfo for which fields a source leaves null). */
export type QueueFigures = Pick<QueueInfo, 'messages' | 'ready' | 'unacked' | 'consumers' | 'rates'>;

/** Every queue the topology declares for these job kinds and retry tiers, work queues first. */
export function topologyQueues(
  names: TopologyNames,
  jobKinds: readonly string[],
  retryDelaysMs: readonly number[],
): TopologyQueue[] {
  const work = [OBJECT_CHECK, ...[...new Set(jobKinds)].sort()].map((kind) => ({
    name: workQueueOf(names, kind),
    role: 'work' as const,
    kind,
  }));
  const tiers = [...new Set(retryDelaysMs)]
    .sort((a, b) => a - b)
    .map((delay) => ({ name: names.retryQueue(delay), role: 'retry' as const, kind: null }));
  return [
    ...work,
    ...tiers,
    { name: names.deadLetterQueue, role: 'dead-letter', kind: null },
    { name: names.jobEventsQueue, role: 'events', kind: null },
  ];
}

/** The queue list: figures where the source had them (zeros for a queue not declared yet), pause flags on work queues. */
export function queueInfos(
  queues: readonly TopologyQueue[],
  figures: ReadonlyMap<string, QueueFigures>,
  paused: ReadonlySet<string>,
): QueueInfo[] {
  return queues.map((queue) => ({
    name: queue.name,
    role: queue.role,
    kind: queue.kind,
    ...(figures.get(queue.name) ?? { messages: 0, ready: null, unacked: null, consumers: 0, rates: null }),
    paused: queue.kind !== null && paused.has(queue.kind),
  }));
}

/** The kinds a pause may name: object-check and every job kind the producer knows. */
export function pausableKinds(jobKinds: readonly string[]): string[] {
  return [OBJECT_CHECK, ...[...new Set(jobKinds)].sort()].filter((kind) => kind !== JOB_EVENTS);
}
