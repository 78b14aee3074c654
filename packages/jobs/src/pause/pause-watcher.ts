import { NotificationListener, type Database, type Kysely } from '@conveyor/database';
import { errorMessage, type Logger } from '@conveyor/platform';
import { isPauseNoticeFor, PAUSED_KINDS_CHANNEL, PausedKinds } from './paused-kinds.js';

export interface PauseWatcherOptions {
  db: Kysely<Database>;
  databaseUrl: string;
  schema: string;
  log: Logger;
  /**
   * How often the table is re-read whatever the notifications say, in ms: the longest a pause
   * is missed while the listener is down. Default 5 s.
   */
  refreshMs?: number;
}

/**
 * The paused kinds as a worker host sees them: read at start, re-read at once when a pause or
 * resume is announced (PostgreSQL NOTIFY) and every `refreshMs` anyway. Subscribers hear the
 * whole set after every read that changed it.
 */
export class PauseWatcher {
  private paused = new Set<string>();
  private readonly store: PausedKinds;
  private readonly listener: NotificationListener;
  private readonly subscribers: ((paused: ReadonlySet<string>) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly options: PauseWatcherOptions) {
    this.store = new PausedKinds(options.db);
    this.listener = new NotificationListener({
      url: options.databaseUrl,
      channel: PAUSED_KINDS_CHANNEL,
      applicationName: `conveyor-consumer pauses ${options.schema}`,
      log: options.log,
      onNotification: (payload) => {
        if (isPauseNoticeFor(payload, options.schema)) void this.refresh();
      },
      // A pause announced while nobody listened is caught by the read on reconnect.
      onListeningChange: (listening) => listening && void this.refresh(),
    });
  }

  isPaused(kind: string): boolean {
    return this.paused.has(kind);
  }

  subscribe(subscriber: (paused: ReadonlySet<string>) => void): void {
    this.subscribers.push(subscriber);
  }

  /** Reads the paused kinds once (a host starting while paused must not consume), then watches. */
  async start(): Promise<void> {
    this.paused = await this.store.list();
    this.listener.start();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.listener.stop();
    await this.reading;
  }

  /** Reads one after another, so an older read never overwrites a newer one. */
  private refresh(): Promise<void> {
    this.reading = this.reading.then(async () => {
      try {
        const paused = await this.store.list();
        const changed =
          paused.size !== this.paused.size || [...paused].some((kind) => !this.paused.has(kind));
        this.paused = paused;
        if (changed) for (const subscriber of this.subscribers) subscriber(paused);
      } catch (error) {
        this.options.log.warn('could not read the paused kinds', { error: errorMessage(error) });
      }
    });
    return this.reading;
  }
}
