import type { MessageKind, TopologyNames } from '@conveyor/contracts';

/** What a consumer serves, in the operator's words: `object-check` or a job kind. */
export const OBJECT_CHECK = 'object-check';
/** The job-events queue, named like a consumed kind where dead letters and queues list it. */
export const JOB_EVENTS = 'job-events';

/** The message kind a consumed kind's work queue carries. */
export function messageKindOf(kind: string): MessageKind {
  return kind === OBJECT_CHECK ? 'object.check' : `job.${kind}`;
}

/** The work queue of a consumed kind. */
export function workQueueOf(names: TopologyNames, kind: string): string {
  return names.workQueue(messageKindOf(kind));
}

/**
 * The consumed kind whose queue `queue` is: `object-check`, a job kind, `job-events`, or
 * undefined for a queue that is none of these (a retry tier, another stack's).
 */
export function consumedKindOfQueue(names: TopologyNames, queue: string): string | undefined {
  if (queue === names.workQueue('object.check')) return OBJECT_CHECK;
  if (queue === names.jobEventsQueue) return JOB_EVENTS;
  const jobQueuePrefix = names.workQueue('job.');
  if (queue.startsWith(jobQueuePrefix) && queue.length > jobQueuePrefix.length)
    return queue.slice(jobQueuePrefix.length);
  return undefined;
}
