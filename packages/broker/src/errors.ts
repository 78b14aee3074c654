import { AppError } from '@conveyor/platform';

/** The broker could not confirm a publish in time (not connected, or the connection dropped). */
export class BrokerUnavailableError extends AppError {
  constructor(message = 'message broker is unavailable', cause?: unknown) {
    super('broker_unavailable', message, { status: 503, cause });
    this.name = 'BrokerUnavailableError';
  }
}

/** A mandatory publish matched no queue: a topology error, never a silent success. */
export class UnroutableMessageError extends AppError {
  constructor(exchange: string, routingKey: string) {
    super(
      'unroutable_message',
      `no queue is bound to exchange "${exchange}" for routing key "${routingKey}"`,
    );
    this.name = 'UnroutableMessageError';
  }
}

/** The broker refused the message (nack), e.g. a queue over its length limit. */
export class PublishRejectedError extends AppError {
  constructor(exchange: string, routingKey: string) {
    super(
      'publish_rejected',
      `the broker rejected a message to "${exchange}" with routing key "${routingKey}"`,
    );
    this.name = 'PublishRejectedError';
  }
}
