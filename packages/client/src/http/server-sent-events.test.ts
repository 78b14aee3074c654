import { serverSentEvents } from './server-sent-events.js';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const events = [];
  for await (const event of serverSentEvents(stream)) events.push(event);
  return events;
}

describe('serverSentEvents', () => {
  it('parses named events, multi-line data and comments, across chunk boundaries', async () => {
    const events = await collect(
      streamOf(': ping\n\nevent: jo', 'b\ndata: {"a":\ndata: 1}\n\r', '\ndata: plain\r\n\r\n'),
    );
    expect(events).toEqual([
      { event: 'job', data: '{"a":\n1}' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await collect(streamOf('event: job\ndata: 1'))).toEqual([]);
  });
});
