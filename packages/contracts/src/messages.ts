import { z } from 'zod';
import { JobEvent, JobRunRequested, type JobKind } from './jobs.js';

/** One object id to check against the object-status API; one message per id of a callback. */
export const ObjectCheckRequested = z.object({
  objectId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** When the producer accepted the callback; becomes `last_seen`, so redeliveries never move it forward. */
  receivedAt: z.iso.datetime({ offset: true }),
});
export type ObjectCheckRequested = z.infer<typeof ObjectCheckRequested>;

export interface MessageDefinition<S extends z.ZodType = z.ZodType> {
  kind: string;
  version: number;
  /** Routing key on the work exchange; also the queue's binding. */
  routingKey: string;
  schema: S;
}

/** The catalog of every message on the work exchange: kind → version, routing key and payload schema. */
export const MessageCatalog = {
  'object.check': {
    kind: 'object.check',
    version: 1,
    routingKey: 'object.check.v1',
    schema: ObjectCheckRequested,
  },
  'job.factorize': {
    kind: 'job.factorize',
    version: 1,
    routingKey: 'job.factorize.v1',
    schema: JobRunRequested,
  },
  'job.csv-sum': { kind: 'job.csv-sum', version: 1, routingKey: 'job.csv-sum.v1', schema: JobRunRequested },
  'job.image-resize': {
    kind: 'job.image-resize',
    version: 1,
    routingKey: 'job.image-resize.v1',
    schema: JobRunRequested,
  },
  /** On the events exchange (routing key `job.<kind>.<status>`), consumed from the job-events queue. */
  'job.event': { kind: 'job.event', version: 1, routingKey: 'job.#', schema: JobEvent },
} as const satisfies Record<string, MessageDefinition>;

type CatalogKind = keyof typeof MessageCatalog;

/**
 * A message kind: one of the catalog's, or `job.<kind>` for a job kind a worker host registered
 * at run time (its payload is a JobRunRequested, like the built-in job kinds').
 */
export type MessageKind = CatalogKind | `job.${string}`;
export type MessagePayload<K extends MessageKind> = K extends CatalogKind
  ? z.infer<(typeof MessageCatalog)[K]['schema']>
  : JobRunRequested;

function isCatalogKind(kind: string): kind is CatalogKind {
  return Object.hasOwn(MessageCatalog, kind);
}

/** The catalog's definition of a kind, or the one every registered job kind shares. */
export function messageDefinition(kind: MessageKind): MessageDefinition {
  if (isCatalogKind(kind)) return MessageCatalog[kind];
  return { kind, version: 1, routingKey: `${kind}.v1`, schema: JobRunRequested };
}

/** The job kind → its work message kind. */
export function jobMessageKind(kind: JobKind): `job.${JobKind}` {
  return `job.${kind}`;
}
