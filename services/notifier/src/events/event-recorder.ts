import type { WebhookDeliveryStore, EventToRecord } from '@conveyor/webhooks';
import { Batcher, type BatcherOptions } from '@conveyor/platform';
import type { Dispatcher } from '../delivery/dispatcher.js';

/**
 * Group commit for job events: the deliveries of events that arrive together are recorded in one
 * statement (see WebhookDeliveryStore.recordEvents), and those the dispatcher has room for (a slot or a
 * place in its queue) are recorded already leased and handed to it in memory, so a new status
 * goes out without a claim.
 * `record` resolves only once the event's delivery row is committed: its caller acks after that.
 */
export class EventRecorder {
  private readonly batcher: Batcher<EventToRecord, void>;

  constructor(store: WebhookDeliveryStore, dispatcher: Dispatcher, options: BatcherOptions) {
    this.batcher = new Batcher<EventToRecord, void>(async (items) => {
      const slots = dispatcher.reserve(items.length);
      const startedAt = Date.now();
      let recorded;
      try {
        recorded = await store.recordEvents(items, { leaseUpTo: slots, leaseMs: dispatcher.leaseMs });
      } finally {
        dispatcher.handOver(slots, recorded, startedAt);
      }
      return items.map(() => undefined);
    }, options);
  }

  record(item: EventToRecord): Promise<void> {
    return this.batcher.add(item);
  }
}
