import { errorOf, sendToKeyPage } from './api-client.js';
import { authHeaders } from './operator-key.js';
import { SseParser, type ServerSentEvent } from './sse-parser.js';

export type StreamState = 'connecting' | 'open' | 'closed';

export interface EventStreamOptions {
  onEvent(event: ServerSentEvent): void;
  /** Called on every (re)connection before its first event: a viewer re-reads what it missed. */
  onOpen?(): void;
  onState?(state: StreamState): void;
  /** Asked when the server ends the stream: false leaves it closed (a finished job's stream). */
  reconnectAfterEnd?(): boolean;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 15_000;

/**
 * Server-Sent Events read with fetch, because EventSource cannot send the Authorization header.
 * Reconnects with a capped backoff; a 401/403 sends the user to the key page and stops. Returns
 * the function that closes it.
 */
export function openEventStream(path: string, options: EventStreamOptions): () => void {
  const controller = new AbortController();
  let retryMs = FIRST_RETRY_MS;

  const run = async () => {
    while (!controller.signal.aborted) {
      options.onState?.('connecting');
      let ended: 'end' | 'error' = 'error';
      try {
        const response = await fetch(path, {
          headers: { ...authHeaders(), accept: 'text/event-stream' },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401 || response.status === 403) {
          sendToKeyPage((await errorOf(response)).message);
          break;
        }
        // Another refusal (404: no such job) will not change by asking again.
        if (
          response.status >= 400 &&
          response.status < 500 &&
          response.status !== 408 &&
          response.status !== 429
        )
          break;
        if (!response.ok || response.body === null) throw await errorOf(response);
        options.onState?.('open');
        options.onOpen?.();
        retryMs = FIRST_RETRY_MS;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) options.onEvent(event);
        }
        ended = 'end';
      } catch {
        // Aborted by close(), or the network or server failed: the loop decides.
      }
      if (controller.signal.aborted) break;
      if (ended === 'end' && options.reconnectAfterEnd?.() === false) break;
      options.onState?.('connecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
    options.onState?.('closed');
  };
  void run();
  return () => controller.abort();
}
