import type { StreamState } from '../api/event-stream.js';

const WORDS: Record<StreamState, string> = { connecting: 'connecting…', open: 'live', closed: 'not live' };

/** Whether the page is following the live stream, so a still page is not mistaken for a quiet system. */
export function LiveIndicator({ state }: { state: StreamState }) {
  return (
    <span class={`live live-${state}`} data-live={state} title="Server-Sent Events">
      ● {WORDS[state]}
    </span>
  );
}
