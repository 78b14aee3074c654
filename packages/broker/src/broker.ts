import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { backoffDelay, errorMessage, sleep, waitAtMost, type Logger, type Metrics } from '@conveyor/platform';
import { BrokerUnavailableError } from './errors.js';
import { ChannelAcks } from './channel-acks.js';
import { laneOf, pendingPublish, PublishLane, settlePublish, type PendingPublish } from './publish-lane.js';
import { coalesceSocketWrites } from './socket-coalescing.js';
import { INITIAL_GROUP_SIZE, type TopologySpec } from './topology-spec.js';

export interface BrokerOptions {
  /**
   * The broker's URL, or a cluster's node URLs comma-separated: connections go to the first
   * that answers, and after a loss to the next one on, so a dead node is left at once.
   */
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
  /**
   * Confirm channels to publish on. `publish` always uses the first (order kept); `publishMany`
   * spreads a batch over all of them, so that RabbitMQ writes a burst to a quorum queue at once
   * instead of 32 commands per channel at a time. Default 1.
   */
  publishChannels?: number;
}

/**
 * What a publish puts in its AMQP properties: the message id (returns of unroutable messages are
 * matched by it) and headers (retry tiers route on them), on a persistent message. Everything else
 * (correlation id, kind, creation time) travels in the envelope, the body: RabbitMQ decodes and
 * stores every property of every message, and four more of them cost a quorum queue about 15 % of
 * its throughput (docs/benchmarks.md).
 */
export interface PublishOptions {
  messageId: string;
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

/** A message for `publishMany`: where it goes, its body and its properties (see PublishOptions). */
export interface OutgoingPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  messageId: string;
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

export interface ConsumeOptions {
  /** Unacknowledged deliveries the broker may send this consumer (AMQP prefetch). */
  prefetch: number;
  /** Handlers running at once; deliveries beyond it wait in memory, unacknowledged. Default = prefetch. */
  concurrency?: number;
  /**
   * Hold a finished delivery's ack at most this long (ms) so that a run of finished deliveries is
   * acknowledged by one `multiple` ack (ChannelAcks). Needs a prefetch above `concurrency` to
   * cover the held ones. Default 0: each ack goes out at once.
   */
  ackHoldMs?: number;
}

interface ConsumerRegistration {
  queue: string;
  prefetch: number;
  concurrency: number;
  ackHoldMs: number;
  handler: DeliveryHandler;
  channel: Channel | undefined;
  acks: ChannelAcks | undefined;
  /** Delivered on the current channel beyond `concurrency`, in delivery order. */
  waiting: ConsumeMessage[];
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
  private readonly lanes: PublishLane[];
  private readonly consumers = new Set<ConsumerRegistration>();
  private readonly connectedWaiters = new Set<() => void>();
  private closing = false;
  private readonly closed = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly publishedCounters = new Map<string, ReturnType<Metrics['published']['labels']>>();
  private readonly log: Logger;
  private readonly urls: string[];
  /** The node URL the next connection tries first. */
  private nextUrl = 0;

  constructor(private readonly options: BrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
    this.urls = options.url
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== '');
    const events = {
      confirmed: (pending: PendingPublish) => this.publishedCounter(pending.exchange)?.inc(),
      failed: (reason: 'nack' | 'unroutable') => this.options.metrics?.publishFailures.inc({ reason }),
    };
    this.lanes = Array.from(
      { length: Math.max(1, options.publishChannels ?? 1) },
      (_, index) => new PublishLane(index, this.log, events),
    );
  }

  get connected(): boolean {
    return this.lanes[0]!.open;
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
      const pending = pendingPublish(
        exchange,
        routingKey,
        body,
        { messageId: options.messageId, headers: options.headers },
        done,
      );
      if (options.timeoutMs !== undefined) {
        pending.timer = setTimeout(
          () => settlePublish(pending, new BrokerUnavailableError('publish was not confirmed in time')),
          options.timeoutMs,
        );
      }
      this.lanes[0]!.enqueue([pending]);
    });
  }

  /**
   * Publishes messages together and resolves once every one is settled, with an outcome per
   * message in order (undefined = confirmed, else the error `publish` would have rejected with).
   * Same guarantees as `publish`, at a fraction of its cost per message: one promise and one
   * deadline for the whole batch (a callback with 200 ids publishes 200 messages). The batch is
   * spread over the publish channels that are open, so its messages may reach a queue in any order.
   */
  publishMany(
    messages: readonly OutgoingPublish[],
    options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {},
  ): Promise<(Error | undefined)[]> {
    const refusal = this.closing
      ? new BrokerUnavailableError('broker is shutting down')
      : options.failFast && !this.lanes.some((lane) => lane.open)
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
        const { exchange, routingKey, body, messageId, headers } = messages[index]!;
        batch.push(
          pendingPublish(exchange, routingKey, body, { messageId, headers }, (error) =>
            settleOne(index, error),
          ),
        );
      }
      if (options.timeoutMs !== undefined) {
        deadline = setTimeout(() => {
          for (const pending of batch)
            settlePublish(pending, new BrokerUnavailableError('publish was not confirmed in time'));
        }, options.timeoutMs);
      }
      this.spread(batch);
    });
  }

  /** Contiguous shares of the batch, one per open lane (every lane when none is open yet). */
  private spread(batch: PendingPublish[]): void {
    const open = this.lanes.filter((lane) => lane.open);
    const lanes = open.length > 0 ? open : this.lanes;
    const shares = lanes.map((): PendingPublish[] => []);
    batch.forEach((pending, index) => shares[laneOf(index, batch.length, lanes.length)]!.push(pending));
    shares.forEach((share, lane) => share.length > 0 && lanes[lane]!.enqueue(share));
  }

  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): ConsumerHandle {
    const registration: ConsumerRegistration = {
      queue,
      prefetch: options.prefetch,
      concurrency: options.concurrency ?? options.prefetch,
      ackHoldMs: options.ackHoldMs ?? 0,
      handler,
      channel: undefined,
      acks: undefined,
      waiting: [],
      consumerTag: undefined,
      inFlight: 0,
      cancelled: false,
      idle: [],
    };
    this.consumers.add(registration);
    // Not awaited: a failure here (the connection closing under it, a cancel during the open)
    // leaves the registration to the next connect, which opens every consumer again.
    if (this.connection)
      this.openConsumer(this.connection, registration).catch((error: unknown) => {
        if (!registration.cancelled && !this.closing)
          this.log.warn('could not open a consumer; it opens again on the next connection', {
            queue,
            error: errorMessage(error),
          });
      });
    return {
      queue,
      cancel: async () => {
        registration.cancelled = true;
        this.consumers.delete(registration);
        await this.stopConsumer(registration);
      },
    };
  }

  /**
   * Ready messages and consumers of each queue, as AMQP's passive declare tells them (it counts
   * no unacknowledged messages); a queue that does not exist is left out. Rejects with
   * BrokerUnavailableError while not connected.
   */
  async inspectQueues(
    queues: readonly string[],
  ): Promise<Map<string, { messages: number; consumers: number }>> {
    const connection = this.connection;
    if (!connection) throw new BrokerUnavailableError();
    const found = new Map<string, { messages: number; consumers: number }>();
    const open = async () => {
      const opened = await connection.createChannel();
      opened.on('error', () => undefined);
      return opened;
    };
    let channel: Channel | undefined;
    try {
      for (const queue of queues) {
        channel ??= await open();
        try {
          const { messageCount, consumerCount } = await channel.checkQueue(queue);
          found.set(queue, { messages: messageCount, consumers: consumerCount });
        } catch {
          // A missing queue closes the channel (404): the next queue gets a new one.
          channel = undefined;
        }
      }
    } finally {
      await channel?.close().catch(() => undefined);
    }
    return found;
  }

  /** Cancels consumers, waits for their in-flight handlers, waits for outstanding confirms (bounded), then disconnects. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.stopConsumer(c)));
    const deadline = Date.now() + 5_000;
    while (this.lanes.some((lane) => !lane.drained) && this.connected && Date.now() < deadline)
      await sleep(20);
    this.closing = true;
    this.closed.abort();
    for (const lane of this.lanes) {
      const held = lane.held();
      lane.stop();
      for (const pending of held)
        settlePublish(pending, new BrokerUnavailableError('broker is shutting down'));
    }
    const connection = this.connection;
    this.connection = undefined;
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
        this.log.warn('broker connection attempt failed', {
          attempt,
          retryInMs: delayMs,
          error: errorMessage(error),
        });
        await sleep(delayMs, this.closed.signal);
      }
    }
  }

  /** Tries every node once, from `nextUrl` on; the error of the last one when none answers. */
  private async connect(): Promise<ChannelModel> {
    let lastError: unknown;
    for (let tried = 0; tried < this.urls.length; tried++) {
      const index = (this.nextUrl + tried) % this.urls.length;
      try {
        const connection = await this.connectTo(this.urls[index]!);
        // After this node is lost, the next connection starts with the one after it.
        this.nextUrl = (index + 1) % this.urls.length;
        return connection;
      } catch (error) {
        lastError = error;
        if (this.closing) break;
        if (this.urls.length > 1)
          this.log.warn('broker node did not answer, trying the next', {
            node: nodeOf(this.urls[index]!),
            error: errorMessage(error),
          });
      }
    }
    throw lastError;
  }

  private async connectTo(nodeUrl: string): Promise<ChannelModel> {
    const url = new URL(nodeUrl);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds ?? 5));
    const connection = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: this.options.connectionName },
      timeout: 5_000,
    });
    coalesceSocketWrites(connection);
    connection.on('error', (error: Error) =>
      this.log.warn('broker connection error', { error: error.message }),
    );
    connection.on('blocked', (reason: string) => this.log.warn('broker blocked publishing', { reason }));
    connection.on('unblocked', () => this.log.info('broker unblocked publishing'));
    try {
      if (this.closing) throw new Error('broker is shutting down');
      await this.assertTopology(connection);
      this.connection = connection;
      for (const lane of this.lanes) await lane.attach(connection);
      await Promise.all([...this.consumers].map((c) => this.openConsumer(connection, c)));
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    this.options.metrics?.reconnects.inc();
    this.log.info('broker connected', { node: nodeOf(nodeUrl), consumers: this.consumers.size });
    for (const resolve of this.connectedWaiters) resolve();
    this.connectedWaiters.clear();
    return connection;
  }

  private async assertTopology(connection: ChannelModel): Promise<void> {
    const { topology } = this.options;
    let channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const exchange of topology.exchanges)
      await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    for (const queue of topology.queues) {
      try {
        await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
      } catch (error) {
        // A queue declared before its initial group size was set (or with another) keeps its
        // replicas: declare it as it is. The refusal closed the channel.
        if (
          !(INITIAL_GROUP_SIZE in (queue.arguments ?? {})) ||
          !errorMessage(error).includes(INITIAL_GROUP_SIZE)
        )
          throw error;
        channel = await connection.createChannel();
        channel.on('error', () => undefined);
        const { [INITIAL_GROUP_SIZE]: _replicas, ...rest } = queue.arguments ?? {};
        await channel.assertQueue(queue.name, { durable: true, arguments: rest });
      }
    }
    for (const b of topology.bindings)
      await channel.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments);
    await channel.close();
  }

  private onDisconnected(): void {
    this.connection = undefined;
    for (const lane of this.lanes) lane.detach();
    for (const consumer of this.consumers) {
      consumer.channel = undefined;
      consumer.consumerTag = undefined;
    }
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

  private async openConsumer(connection: ChannelModel, registration: ConsumerRegistration): Promise<void> {
    if (registration.cancelled || registration.channel) return;
    const channel = await connection.createChannel();
    const acks = new ChannelAcks(
      channel,
      registration.ackHoldMs,
      this.log.child({ queue: registration.queue }),
    );
    registration.channel = channel;
    registration.acks = acks;
    registration.waiting = [];
    channel.on('error', (error: Error) =>
      this.log.warn('consumer channel error', { queue: registration.queue, error: error.message }),
    );
    channel.once('close', () => {
      acks.dispose();
      if (registration.channel !== channel) return;
      registration.channel = undefined;
      registration.acks = undefined;
      // Deliveries not started yet are the closed channel's: the broker sends them again.
      registration.waiting = [];
      registration.consumerTag = undefined;
      if (!this.closing && !registration.cancelled && this.connection === connection)
        void this.reopenConsumer(connection, registration);
    });
    await channel.prefetch(registration.prefetch);
    if (registration.cancelled) {
      // Cancelled while the channel opened (a stop right after a start): nothing to consume.
      await channel.close().catch(() => undefined);
      return;
    }
    const { consumerTag } = await channel.consume(registration.queue, (message) => {
      if (message === null) {
        // The server cancelled us (queue deleted or a failover): re-declare and consume again.
        this.log.warn('consumer cancelled by the broker', { queue: registration.queue });
        void channel.close().catch(() => undefined);
        return;
      }
      acks.delivered(message);
      if (registration.inFlight < registration.concurrency)
        this.dispatch(channel, acks, registration, message);
      else registration.waiting.push(message);
    });
    registration.consumerTag = consumerTag;
    this.log.info('consuming', {
      queue: registration.queue,
      prefetch: registration.prefetch,
      concurrency: registration.concurrency,
    });
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
        this.log.warn('re-opening consumer failed', {
          queue: registration.queue,
          attempt,
          error: errorMessage(error),
        });
      }
    }
  }

  private dispatch(
    channel: Channel,
    acks: ChannelAcks,
    registration: ConsumerRegistration,
    message: ConsumeMessage,
  ): void {
    let done = false;
    // Acks of a channel that has since closed are dropped; the broker redelivers those messages.
    const finish = (action: () => void) => {
      if (done) return;
      done = true;
      if (registration.channel === channel) action();
    };
    const delivery: Delivery = {
      body: message.content,
      exchange: message.fields.exchange,
      routingKey: message.fields.routingKey,
      redelivered: message.fields.redelivered,
      headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      messageId: message.properties.messageId as string | undefined,
      ack: () => finish(() => acks.ack(message)),
      reject: (requeue) => finish(() => acks.nack(message, requeue)),
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
        this.startWaiting(registration);
        if (registration.inFlight === 0) for (const resolve of registration.idle.splice(0)) resolve();
      });
  }

  /** Starts deliveries that waited for a free place, while there is one (never after a cancel). */
  private startWaiting(registration: ConsumerRegistration): void {
    const { channel, acks } = registration;
    if (!channel || !acks) return;
    while (
      !registration.cancelled &&
      registration.inFlight < registration.concurrency &&
      registration.waiting.length > 0
    ) {
      this.dispatch(channel, acks, registration, registration.waiting.shift()!);
    }
  }

  private async stopConsumer(registration: ConsumerRegistration): Promise<void> {
    registration.cancelled = true;
    const { channel, consumerTag } = registration;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
    // Handlers are told to stop by their own layer; this wait only bounds a handler that ignores it.
    if (registration.inFlight > 0) {
      await waitAtMost(new Promise<void>((resolve) => registration.idle.push(resolve)), 30_000);
    }
    // Finished work is acknowledged before the channel goes; deliveries never started are redelivered.
    registration.acks?.flushAll();
    registration.channel = undefined;
    registration.acks = undefined;
    registration.waiting = [];
    await channel?.close().catch(() => undefined);
  }
}

/** host:port of a node URL, for logs (never its credentials). */
function nodeOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable URL';
  }
}
