import type {
  DeadLetter,
  DeadLetterDetail,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterSelection,
  Overview,
  PauseState,
  PurgeResult,
  QueueList,
  RedriveResult,
  WorkerList,
} from '@conveyor/contracts';
import type { ApiTransport } from '../http/api-transport.js';

export type DeadLetterFilters = Partial<Pick<DeadLetterListQuery, 'kind' | 'limit'>>;

/** Dead letters (operator keys only): messages given up on, kept until redriven or purged. */
export class DeadLetterCalls {
  constructor(private readonly transport: ApiTransport) {}

  /** One page, newest first, with the total matching the filter. */
  page(filters: DeadLetterFilters & { cursor?: string | undefined } = {}): Promise<DeadLetterPage> {
    return this.transport.json({ path: '/v1/dead-letters', query: filters });
  }

  /** Every dead letter matching the filter, page after page. */
  async *list(filters: DeadLetterFilters = {}): AsyncGenerator<DeadLetter> {
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...filters, cursor });
      yield* page.deadLetters;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  get(id: string): Promise<DeadLetterDetail> {
    return this.transport.json({ path: `/v1/dead-letters/${encodeURIComponent(id)}` });
  }

  /** Sends one dead letter (by id) or a selection (`{ids}`, `{kind}`, `{all: true}`) back to its work queue. */
  redrive(selection: string | DeadLetterSelection): Promise<RedriveResult> {
    return typeof selection === 'string'
      ? this.transport.json({
          method: 'POST',
          path: `/v1/dead-letters/${encodeURIComponent(selection)}/redrive`,
        })
      : this.transport.json({ method: 'POST', path: '/v1/dead-letters/redrive', body: selection });
  }

  /** Deletes dead letters for good. */
  purge(selection: DeadLetterSelection): Promise<PurgeResult> {
    return this.transport.json({ method: 'POST', path: '/v1/dead-letters/purge', body: selection });
  }
}

/** Queues (operator keys only): their figures; pausing and resuming the consumption of a kind. */
export class QueueCalls {
  constructor(private readonly transport: ApiTransport) {}

  list(): Promise<QueueList> {
    return this.transport.json({ path: '/v1/queues' });
  }

  pause(kind: string): Promise<PauseState> {
    return this.transport.json({ method: 'POST', path: `/v1/queues/${encodeURIComponent(kind)}/pause` });
  }

  resume(kind: string): Promise<PauseState> {
    return this.transport.json({ method: 'POST', path: `/v1/queues/${encodeURIComponent(kind)}/resume` });
  }
}

/** Worker hosts (operator keys only). */
export class WorkerCalls {
  constructor(private readonly transport: ApiTransport) {}

  list(): Promise<WorkerList> {
    return this.transport.json({ path: '/v1/workers' });
  }
}

export function readOverview(transport: ApiTransport): Promise<Overview> {
  return transport.json({ path: '/v1/overview' });
}
