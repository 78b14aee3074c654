import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('reads named events, multi-line data and skips comments', () => {
    const parser = new SseParser();
    expect(
      parser.push(': ping\n\nevent: job\ndata: {"a":1}\n\nevent: history\ndata: [1,\ndata: 2]\n\n'),
    ).toEqual([
      { event: 'job', data: '{"a":1}' },
      { event: 'history', data: '[1,\n2]' },
    ]);
  });

  it('joins an event split across chunks anywhere, a CRLF split in two included', () => {
    const parser = new SseParser();
    const text = 'event: overview\r\ndata: {"x": "y"}\r\n\r\ndata: plain\r\n\r\n';
    const events = [];
    for (const chunk of text.match(/[\s\S]{1,3}/g) ?? []) events.push(...parser.push(chunk));
    expect(events).toEqual([
      { event: 'overview', data: '{"x": "y"}' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('holds an event until its blank line, and drops one without data', () => {
    const parser = new SseParser();
    expect(parser.push('event: job\ndata: 1\n')).toEqual([]);
    expect(parser.push('\nevent: resync\n\n')).toEqual([{ event: 'job', data: '1' }]);
    expect(parser.push('event: resync\ndata:\n\n')).toEqual([{ event: 'resync', data: '' }]);
  });
});
