import amqp, { type ChannelModel } from 'amqplib';
import { TEST_AMQP_URL } from './isolation.js';

export interface QueueState {
  ready: number;
  consumers: number;
}

/**
 * Looks at queues from the outside, as an operator would. `messageCount` from a passive declare
 * counts ready messages only; unacknowledged ones are invisible to it, so "nothing left" is
 * checked as ready = 0 after the consumers are gone or idle.
 */
export class BrokerProbe {
  private constructor(private readonly connection: ChannelModel) {}

  static async open(url = TEST_AMQP_URL): Promise<BrokerProbe> {
    return new BrokerProbe(await amqp.connect(url));
  }

  async queue(name: string): Promise<QueueState> {
    const channel = await this.connection.createChannel();
    // A missing queue closes the channel with 404; the rejected promise already reports it.
    channel.on('error', () => undefined);
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(name);
      return { ready: messageCount, consumers: consumerCount };
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Takes every ready message off a queue (acking them) and returns bodies and headers. */
  async drain(name: string): Promise<{ body: unknown; headers: Record<string, unknown> }[]> {
    const channel = await this.connection.createChannel();
    const messages: { body: unknown; headers: Record<string, unknown> }[] = [];
    try {
      for (;;) {
        const message = await channel.get(name, { noAck: true });
        if (message === false) return messages;
        messages.push({
          body: JSON.parse(message.content.toString('utf8')),
          headers: (message.properties.headers ?? {}) as Record<string, unknown>,
        });
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
