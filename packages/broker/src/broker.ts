import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { backoffDelay, errorMessage, sleep, type Logger, type Metrics } from '@conveyor/platform';
import { BrokerUnavailableError, PublishRejectedError, UnroutableMessageError } from './errors.js';
import { coalesceSocketWrites } from './socket-coalescing.js';
import type { TopologySpec } from './topology-spec.js';

export interface BrokerOptions {
  url: string;
  /** Shown in the management UI's connection list. */
  connectionName: string;
  log: Logger;
  metrics?: Metrics;
  /** Asserted on every connect, before any publish or consumer starts. */
  topology: TopologySpec;
  /** AMQP heartbeat; a dead peer is noticed after about two intervals. Default 5 s. */
  heartbeatSeconds?: number;
  /** Reconnect backoff: first delay and cap, in ms. Defaults 200 ms and 10 s. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export interface PublishOptions {
  messageId: string;
  correlationId?: string;
  type?: string;
  headers?: Record<string, unknown>;
  /**
   * Give up (and reject with BrokerUnavailableError) if not confirmed within this time. A
   * message given up on is never re-sent by the broker module: the caller owns it again.
   * Without a timeout, a publish waits across reconnects until it is confirmed.
   */
  timeoutMs?: number;
  /** Reject at once when not connected instead of waiting for the connection. */
  failFast?: boolean;
}

/** A message for `publishMany`: where it goes, its body and its properties. */
export interface OutgoingPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  messageId: string;
  correlationId?: string;
  type?: string;
  headers?: Record<string, unknown>;
}

export interface Delivery {
  body: Buffer;
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  headers: Record<string, unknown>;
  messageId: string | undefined;
  /** No-ops when the delivery's channel is gone: the broker redelivers the message anyway. */
  ack(): void;
  reject(requeue: boolean): void;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface ConsumerHandle {
  readonly queue: string;
  /** Stops new deliveries and waits for in-flight handlers. */
  cancel(): Promise<void>;
}

interface PendingPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: PublishOptions;
  /** Called once, when the broker confirms (no error) or the publish is given up on. */
  done(error?: Error): void;
  returned: boolean;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface ConsumerRegistration {
  queue: string;
  prefetch: number;
  handler: DeliveryHandler;
  channel: Channel | undefined;
  consumerTag: string | undefined;
  inFlight: number;
  cancelled: boolean;
  idle: (() => void)[];
}

/**
 * The one module that touches amqplib. It keeps a connection up (capped exponential backoff,
 * a log line per attempt), re-asserts the topology and re-registers every consumer on each
 * connect, re-opens channels the server closed, and publishes with confirms and `mandatory`:
 * a publish resolves only when the broker has taken responsibility for the message, and
 * unconfirmed publishes are re-sent after a reconnect rather than dropped.
 */
export class Broker {
  private connection: ChannelModel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  private readonly queued: PendingPublish[] = [];
  private readonly inFlight = new Set<PendingPublish>();
  private readonly consumers = new Set<ConsumerRegistration>();
  private readonly connectedWaiters = new Set<() => void>();
  private closing = false;
  private readonly closed = new AbortController();
  private loop: Promise<void> | undefined;
  private flushing = false;
  private readonly publishedCounters = new Map<string, ReturnType<Metrics['published']['labels']>>();
  private readonly log: Logger;

  constructor(private readonly options: BrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
  }

  get connected(): boolean {
    return this.publishChannel !== undefined;
  }

  /** Starts the connection loop and resolves once connected and the topology is in place. */
  async start(): Promise<void> {
    this.loop ??= this.runConnectionLoop();
    await this.waitForConnection();
  }

  waitForConnection(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.add(resolve));
  }

  publish(exchange: string, routingKey: string, body: Buffer, options: PublishOptions): Promise<void> {
    if (this.closing) return Promise.reject(new BrokerUnavailableError('broker is shutting down'));
    if (options.failFast && !this.connected) return Promise.reject(new BrokerUnavailableError());
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => (error ? reject(error) : resolve());
      const pending: PendingPublish = { exchange, routingKey, body, options, done, returned: false, settled: false, timer: undefined };
      if (options.timeoutMs !== undefined) {
        pending.timer = setTimeout(() => this.settle(pending, new BrokerUnavailableError('publish was not confirmed in time')), options.timeoutMs);
      }
      this.queued.push(pending);
      this.flush();
    });
  }

  /**
   * Publishes messages together and resolves once every one is settled, with an outcome per
   * message in order (undefined = confirmed, else the error `publish` would have rejected with).
   * Same guarantees as `publish`, at a fraction of its cost per message: one promise and one
   * deadline for the whole batch (a callback with 200 ids publishes 200 messages).
   */
  publishMany(messages: readonly OutgoingPublish[], options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {}): Promise<(Error | undefined)[]> {
    const refusal = this.closing
      ? new BrokerUnavailableError('broker is shutting down')
      : options.failFast && !this.connected
        ? new BrokerUnavailableError()
        : undefined;
    if (refusal || messages.length === 0) return Promise.resolve(messages.map(() => refusal));
    return new Promise((resolve) => {
      const outcomes: (Error | undefined)[] = new Array<Error | undefined>(messages.length);
      const batch: PendingPublish[] = [];
      let remaining = messages.length;
      let deadline: NodeJS.Timeout | undefined;
      const settleOne = (index: number, error?: Error) => {
        outcomes[index] = error;
        remaining -= 1;
        if (remaining > 0) return;
        clearTimeout(deadline);
        resolve(outcomes);
      };
      for (let index = 0; index < messages.length; index++) {
        const { exchange, routingKey, body, ...properties } = messages[index]!;
        batch.push({ exchange, routingKey, body, options: properties, done: (error) => settleOne(index, error), returned: false, settled: false, timer: undefined });
      }
      if (options.timeoutMs !== undefined) {
        deadline = setTimeout(() => {
          for (const pending of batch) this.settle(pending, new BrokerUnavailableError('publish was not confirmed in time'));
        }, options.timeoutMs);
      }
      for (const pending of batch) this.queued.push(pending);
      this.flush();
    });
  }

  consume(queue: string, handler: DeliveryHandler, options: { prefetch: number }): ConsumerHandle {
    const registration: ConsumerRegistration = {
      queue,
      prefetch: options.prefetch,
      handler,
      channel: undefined,
      consumerTag: undefined,
      inFlight: 0,
      cancelled: false,
      idle: [],
    };
    this.consumers.add(registration);
    if (this.connection) void this.openConsumer(this.connection, registration);
    return {
      queue,
      cancel: async () => {
        registration.cancelled = true;
        this.consumers.delete(registration);
        await this.stopConsumer(registration);
      },
    };
  }

  /** Cancels consumers, waits for their in-flight handlers, waits for outstanding confirms (bounded), then disconnects. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.stopConsumer(c)));
    const deadline = Date.now() + 5_000;
    while ((this.queued.length > 0 || this.inFlight.size > 0) && this.connected && Date.now() < deadline) await sleep(20);
    this.closing = true;
    this.closed.abort();
    for (const pending of [...this.queued, ...this.inFlight]) this.settle(pending, new BrokerUnavailableError('broker is shutting down'));
    const connection = this.connection;
    this.connection = undefined;
    this.publishChannel = undefined;
    await connection?.close().catch(() => undefined);
    await this.loop;
  }

  private async runConnectionLoop(): Promise<void> {
    const { reconnectBaseMs = 200, reconnectMaxMs = 10_000 } = this.options;
    let attempt = 0;
    while (!this.closing) {
      try {
        const connection = await this.connect();
        attempt = 0;
        const lost = new Promise<void>((resolve) => connection.once('close', () => resolve()));
        if (this.closing) await connection.close().catch(() => undefined);
        await lost;
        this.onDisconnected();
        if (this.closing) break;
        this.log.warn('broker connection lost, reconnecting');
      } catch (error) {
        this.onDisconnected();
        if (this.closing) break;
        const delayMs = backoffDelay(attempt, reconnectBaseMs, reconnectMaxMs);
        attempt += 1;
        this.log.warn('broker connection attempt failed', { attempt, retryInMs: delayMs, error: errorMessage(error) });
        await sleep(delayMs, this.closed.signal);
      }
    }
  }

  private async connect(): Promise<ChannelModel> {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? 5));
    const connection = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: this.options.connectionName },
      timeout: 5_000,
    });
    coalesceSocketWrites(connection);
    connection.on('error', (error: Error) => this.log.warn('broker connection error', { error: error.message }));
    connection.on('blocked', (reason: string) => this.log.warn('broker blocked publishing', { reason }));
    connection.on('unblocked', () => this.log.info('broker unblocked publishing'));
    try {
      if (this.closing) throw new Error('broker is shutting down');
      await this.assertTopology(connection);
      this.connection = connection;
      await this.openPublishChannel(connection);
      await Promise.all([...this.consumers].map((c) => this.openConsumer(connection, c)));
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    this.options.metrics?.reconnects.inc();
    this.log.info('broker connected', { consumers: this.consumers.size });
    for (const resolve of this.connectedWaiters) resolve();
    this.connectedWaiters.clear();
    return connection;
  }

  private async assertTopology(connection: ChannelModel): Promise<void> {
    const { topology } = this.options;
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const exchange of topology.exchanges) await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    for (const queue of topology.queues) await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments);
    await channel.close();
  }

  private async openPublishChannel(connection: ChannelModel): Promise<void> {
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => this.log.warn('publish channel error', { error: error.message }));
    channel.on('return', (message: ConsumeMessage) => {
      for (const pending of this.inFlight) if (pending.options.messageId === message.properties.messageId) pending.returned = true;
    });
    channel.on('drain', () => this.flush());
    channel.once('close', () => {
      if (this.publishChannel === channel) this.publishChannel = undefined;
      this.requeueInFlight();
      // The server closes a channel on a channel-level error (e.g. a missing exchange); the
      // connection lives on, so re-open the channel here rather than waiting for a reconnect.
      if (!this.closing && this.connection === connection) void this.reopenPublishChannel(connection);
    });
    this.publishChannel = channel;
    this.flush();
  }

  private async reopenPublishChannel(connection: ChannelModel): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, 100, 5_000), this.closed.signal);
      // A lost connection is the connection loop's to recover, with a fresh channel.
      if (this.closing || this.connection !== connection) return;
      try {
        await this.openPublishChannel(connection);
        this.log.info('publish channel re-opened', { attempt });
        return;
      } catch (error) {
        this.log.warn('re-opening publish channel failed', { attempt, error: errorMessage(error) });
      }
    }
  }

  private onDisconnected(): void {
    this.connection = undefined;
    this.publishChannel = undefined;
    this.requeueInFlight();
    for (const consumer of this.consumers) {
      consumer.channel = undefined;
      consumer.consumerTag = undefined;
    }
  }

  /** Messages sent but not confirmed on a channel that died go back to the front of the queue. */
  private requeueInFlight(): void {
    const unconfirmed = [...this.inFlight].filter((p) => !p.settled);
    this.inFlight.clear();
    for (const p of unconfirmed) p.returned = false;
    this.queued.unshift(...unconfirmed);
  }

  private flush(): void {
    const channel = this.publishChannel;
    if (!channel || this.flushing) return;
    this.flushing = true;
    try {
      while (this.queued.length > 0 && this.publishChannel === channel) {
        const pending = this.queued.shift()!;
        if (pending.settled) continue;
        this.inFlight.add(pending);
        const { messageId, correlationId, type, headers } = pending.options;
        const writable = channel.publish(
          pending.exchange,
          pending.routingKey,
          pending.body,
          { persistent: true, mandatory: true, contentType: 'application/json', messageId, correlationId, type, headers, timestamp: Math.floor(Date.now() / 1000) },
          (error) => this.onConfirm(channel, pending, error),
        );
        // Respect the socket's back-pressure: resume on 'drain'.
        if (!writable) break;
      }
    } catch (error) {
      this.log.warn('publish failed on the channel, will re-send', { error: errorMessage(error) });
    } finally {
      this.flushing = false;
    }
  }

  private onConfirm(channel: ConfirmChannel, pending: PendingPublish, error: unknown): void {
    if (pending.settled) return;
    if (error) {
      // amqplib fails every unconfirmed publish just before a closing channel emits 'close', in
      // the same tick. Decide on the next turn: by then a closed channel has put the message
      // back in the queue to be re-sent, and only a nack from a live channel is left, which is final.
      setImmediate(() => {
        if (pending.settled || !this.inFlight.has(pending) || this.publishChannel !== channel) return;
        this.options.metrics?.publishFailures.inc({ reason: 'nack' });
        this.settle(pending, new PublishRejectedError(pending.exchange, pending.routingKey));
      });
      return;
    }
    if (pending.returned) {
      this.options.metrics?.publishFailures.inc({ reason: 'unroutable' });
      this.settle(pending, new UnroutableMessageError(pending.exchange, pending.routingKey));
      return;
    }
    this.publishedCounter(pending.exchange)?.inc();
    this.settle(pending);
  }

  /** Label values resolved once per exchange: at tens of thousands of publishes per second it shows. */
  private publishedCounter(exchange: string) {
    const metrics = this.options.metrics;
    if (!metrics) return undefined;
    let counter = this.publishedCounters.get(exchange);
    if (!counter) {
      counter = metrics.published.labels({ exchange });
      this.publishedCounters.set(exchange, counter);
    }
    return counter;
  }

  private settle(pending: PendingPublish, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    this.inFlight.delete(pending);
    pending.done(error);
  }

  private async openConsumer(connection: ChannelModel, registration: ConsumerRegistration): Promise<void> {
    if (registration.cancelled || registration.channel) return;
    const channel = await connection.createChannel();
    registration.channel = channel;
    channel.on('error', (error: Error) => this.log.warn('consumer channel error', { queue: registration.queue, error: error.message }));
    channel.once('close', () => {
      if (registration.channel !== channel) return;
      registration.channel = undefined;
      registration.consumerTag = undefined;
      if (!this.closing && !registration.cancelled && this.connection === connection) void this.reopenConsumer(connection, registration);
    });
    await channel.prefetch(registration.prefetch);
    const { consumerTag } = await channel.consume(registration.queue, (message) => {
      if (message === null) {
        // The server cancelled us (queue deleted or a failover): re-declare and consume again.
        this.log.warn('consumer cancelled by the broker', { queue: registration.queue });
        void channel.close().catch(() => undefined);
        return;
      }
      this.dispatch(channel, registration, message);
    });
    registration.consumerTag = consumerTag;
    this.log.info('consuming', { queue: registration.queue, prefetch: registration.prefetch });
  }

  private async reopenConsumer(connection: ChannelModel, registration: ConsumerRegistration): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, 100, 5_000), this.closed.signal);
      if (this.closing || registration.cancelled || this.connection !== connection) return;
      try {
        await this.assertTopology(connection);
        await this.openConsumer(connection, registration);
        return;
      } catch (error) {
        this.log.warn('re-opening consumer failed', { queue: registration.queue, attempt, error: errorMessage(error) });
      }
    }
  }

  private dispatch(channel: Channel, registration: ConsumerRegistration, message: ConsumeMessage): void {
    let done = false;
    // An ack on a channel that has since closed would throw; the broker redelivers that message.
    const finish = (action: () => void) => {
      if (done) return;
      done = true;
      if (registration.channel === channel) {
        try {
          action();
        } catch (error) {
          this.log.warn('ack/reject on a closed channel ignored', { queue: registration.queue, error: errorMessage(error) });
        }
      }
    };
    const delivery: Delivery = {
      body: message.content,
      exchange: message.fields.exchange,
      routingKey: message.fields.routingKey,
      redelivered: message.fields.redelivered,
      headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      messageId: message.properties.messageId as string | undefined,
      ack: () => finish(() => channel.ack(message)),
      reject: (requeue) => finish(() => channel.nack(message, false, requeue)),
    };
    registration.inFlight += 1;
    registration
      .handler(delivery)
      .catch((error: unknown) => {
        // Handlers own their outcome; one that throws leaves the message for redelivery.
        this.log.error('delivery handler threw', { queue: registration.queue, error: errorMessage(error) });
        delivery.reject(true);
      })
      .finally(() => {
        registration.inFlight -= 1;
        if (registration.inFlight === 0) for (const resolve of registration.idle.splice(0)) resolve();
      });
  }

  private async stopConsumer(registration: ConsumerRegistration): Promise<void> {
    registration.cancelled = true;
    const { channel, consumerTag } = registration;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
    // Handlers are told to stop by their own layer; this wait only bounds a handler that ignores it.
    if (registration.inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => registration.idle.push(resolve)), sleep(30_000)]);
    }
    registration.channel = undefined;
    await channel?.close().catch(() => undefined);
  }
}
