import pg from 'pg';
import { backoffDelay, errorMessage, sleep, waitAtMost, type Logger } from '@conveyor/platform';

export interface NotificationListenerOptions {
  url: string;
  channel: string;
  /** How the connection shows in pg_stat_activity. Default `listen <channel>`. */
  applicationName?: string;
  log: Logger;
  onNotification: (payload: string) => void;
  /**
   * True once LISTEN is in effect; false as soon as the connection is lost or stops answering.
   * Notifications sent while false are never delivered: whoever relies on them must not trust
   * what they would have corrected.
   */
  onListeningChange: (listening: boolean) => void;
  /** How often the connection proves it is alive with a query, in ms. Default 5 s. */
  heartbeatMs?: number;
  /** How long a connect, the LISTEN or a heartbeat may take before the connection counts as lost, in ms. Default 3 s. */
  timeoutMs?: number;
}

/** Resolves when `signal` aborts (at once if it has). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A dedicated PostgreSQL connection that LISTENs on one channel, and reconnects (with backoff)
 * for as long as it runs. A pooled connection cannot do this: LISTEN belongs to a session. A
 * connection can also die without a word (a half-open TCP connection), so a heartbeat query
 * proves it alive every few seconds; one that does not answer in time counts as lost.
 */
export class NotificationListener {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private listeningNow = false;

  constructor(private readonly options: NotificationListenerOptions) {}

  get listening(): boolean {
    return this.listeningNow;
  }

  /** Connects in the background; onListeningChange(true) tells when LISTEN is in effect. */
  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (await this.listenOnce()) attempt = 0;
      if (!signal.aborted) await sleep(backoffDelay(attempt, 200, 5_000), signal);
    }
  }

  /** One connection, from connect to its loss (or stop()); true if it got as far as listening. */
  private async listenOnce(): Promise<boolean> {
    const { url, channel, log } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 3_000;
    const { signal } = this.stopping;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: this.options.applicationName ?? `listen ${channel}`,
    });
    // Both can come at any time once connected; without an 'error' listener the process would crash.
    const lost = new Promise<Error>((resolve) => {
      client.on('error', resolve);
      client.on('end', () => resolve(new Error('the connection ended')));
    });
    client.on('notification', (message) => {
      if (message.channel !== channel) return;
      try {
        this.options.onNotification(message.payload ?? '');
      } catch (error) {
        log.error('notification handler failed', { channel, error });
      }
    });
    let listened = false;
    try {
      await client.connect();
      if (!(await waitAtMost(client.query(`listen ${client.escapeIdentifier(channel)}`), timeoutMs)))
        throw new Error('LISTEN timed out');
      listened = true;
      this.setListening(true);
      log.info('listening for notifications', { channel });
      const over = Promise.race([lost, aborted(signal)]);
      while (!(await waitAtMost(over, this.options.heartbeatMs ?? 5_000))) {
        if (!(await waitAtMost(client.query('select 1'), timeoutMs)))
          throw new Error('the heartbeat query timed out');
      }
      const reason = await over;
      if (reason) throw reason;
    } catch (error) {
      if (!signal.aborted)
        log.warn('notification listener disconnected, reconnecting', { channel, error: errorMessage(error) });
    } finally {
      this.setListening(false);
      // end() says goodbye on a healthy connection, and drops one with a query stuck on it; the
      // destroy covers a connection that never answers the goodbye.
      await waitAtMost(
        client.end().catch(() => undefined),
        timeoutMs,
      );
      client.connection.stream.destroy();
    }
    return listened;
  }

  private setListening(listening: boolean): void {
    if (listening === this.listeningNow) return;
    this.listeningNow = listening;
    this.options.onListeningChange(listening);
  }
}
