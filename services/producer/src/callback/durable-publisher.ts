import {
  BrokerUnavailableError,
  publishAllOutgoing,
  PublishRejectedError,
  type Broker,
  type OutgoingMessage,
} from '@conveyor/broker';
import { insertOutboxMessages, type Database, type Kysely } from '@conveyor/database';
import { AppError, errorMessage, type Logger, type Metrics } from '@conveyor/platform';

export interface DurablePublisherDeps {
  broker: Broker;
  db: Kysely<Database>;
  log: Logger;
  metrics: Metrics;
  publishTimeoutMs: number;
}

export interface DurableOutcome {
  published: number;
  spilled: number;
}

/**
 * Makes messages durable before a request is answered: confirmed by the broker, or, when the
 * broker cannot confirm in time, committed to the PostgreSQL outbox for the relay to send
 * later. Only when both fail does the caller get an error (the API answers 503).
 */
export class DurablePublisher {
  constructor(private readonly deps: DurablePublisherDeps) {}

  async publishAll(messages: OutgoingMessage[]): Promise<DurableOutcome> {
    const { broker, publishTimeoutMs } = this.deps;
    const outcomes = await publishAllOutgoing(broker, messages, {
      timeoutMs: publishTimeoutMs,
      failFast: true,
    });
    const unconfirmed: OutgoingMessage[] = [];
    outcomes.forEach((error, index) => {
      if (error === undefined) return;
      // Unavailable or refused by the broker: the outbox takes it. Anything else (an unroutable
      // message is a topology bug) is not the broker's weather and must surface.
      if (!(error instanceof BrokerUnavailableError || error instanceof PublishRejectedError)) throw error;
      unconfirmed.push(messages[index]!);
    });
    if (unconfirmed.length > 0) await this.spill(unconfirmed);
    return { published: messages.length - unconfirmed.length, spilled: unconfirmed.length };
  }

  private async spill(messages: OutgoingMessage[]): Promise<void> {
    try {
      await insertOutboxMessages(this.deps.db, messages);
    } catch (error) {
      this.deps.log.error('outbox write failed while the broker is unavailable', {
        messages: messages.length,
        error: errorMessage(error),
      });
      throw new AppError(
        'service_unavailable',
        'neither the message broker nor the database can accept work right now; retry later',
        {
          status: 503,
          cause: error,
        },
      );
    }
    this.deps.metrics.spilled.inc(messages.length);
    this.deps.log.warn('broker unavailable, messages spilled to the outbox', { messages: messages.length });
  }
}
