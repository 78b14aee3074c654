import type { LiveEventName } from '@conveyor/contracts';
import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import type { Request, Response } from 'express';

/** A comment line every so often keeps proxies from closing an idle stream. */
const PING_MS = 15_000;

/** An open Server-Sent Events response. */
export interface LiveStream {
  send(event: LiveEventName, data: unknown): void;
  /** Aborted when the client goes away, the stream is ended, or the server stops. */
  readonly signal: AbortSignal;
  end(): void;
}

/**
 * Every open stream of this process, so that stopping the producer ends them all at once: a
 * stream never ends by itself, and the server's close would otherwise wait out its grace on each.
 */
export class LiveStreams {
  private readonly open = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.open.size;
  }

  start(req: Request, res: Response): LiveStream {
    const controller = new AbortController();
    const { signal } = controller;
    this.open.add(controller);
    if (this.stopped) controller.abort();
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
    const finish = () => {
      clearInterval(ping);
      this.open.delete(controller);
      if (!res.writableEnded) res.end();
    };
    signal.addEventListener('abort', finish, { once: true });
    req.on('close', () => controller.abort());
    res.on('error', () => controller.abort());
    return {
      signal,
      send: (event, data) => {
        if (signal.aborted) return;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end: () => controller.abort(),
    };
  }

  /** Ends every stream, now and from now on. */
  closeAll(): void {
    this.stopped = true;
    for (const controller of [...this.open]) controller.abort();
  }

  /**
   * Runs `tick` every `intervalMs` until the stream ends or `tick` returns false. A failed tick
   * (the database away for a moment) is logged and the next one tries again.
   */
  async poll(stream: LiveStream, intervalMs: number, tick: () => Promise<boolean>): Promise<void> {
    while (!stream.signal.aborted) {
      try {
        if (!(await tick())) {
          stream.end();
          return;
        }
      } catch (error) {
        this.log.warn('live stream read failed; trying again', { error: errorMessage(error) });
      }
      await sleep(intervalMs, stream.signal);
    }
  }
}
