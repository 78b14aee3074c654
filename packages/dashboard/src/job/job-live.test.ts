import type { JobHistoryEntry } from '@conveyor/contracts';
import { mergeHistory, parseJobLiveEvent } from './job-live.js';

const status = (sequence: number, at: string): JobHistoryEntry => ({
  type: 'status',
  at,
  sequence,
  status: 'running',
  attempt: 1,
  progress: { fraction: 0, message: null },
  error: null,
});

describe('job live events', () => {
  it('merge each entry once, in time order', () => {
    const first = status(1, '2026-12-08T00:00:01.000Z');
    const second = status(2, '2026-12-08T00:00:02.000Z');
    const delivery: JobHistoryEntry = {
      type: 'delivery',
      at: '2026-12-08T00:00:03.000Z',
      deliveryId: 'msg_01a25312c74600005569ab392442fa5a',
      sequence: 2,
      attempt: 1,
      url: 'http://127.0.0.1/hooks',
      statusCode: 200,
      latencyMs: 3,
      error: null,
    };
    expect(mergeHistory([second], [delivery, first, second])).toEqual([first, second, delivery]);
  });

  it('parse a history event holding one entry or several, and ignore anything else', () => {
    const entry = status(1, '2026-12-08T00:00:01.000Z');
    expect(parseJobLiveEvent({ event: 'history', data: JSON.stringify(entry) })).toEqual({
      type: 'history',
      entries: [entry],
    });
    expect(parseJobLiveEvent({ event: 'history', data: JSON.stringify([entry, entry]) })).toMatchObject({
      entries: [entry, entry],
    });
    expect(parseJobLiveEvent({ event: 'job', data: '{"id":"not a job"}' })).toBeUndefined();
    expect(parseJobLiveEvent({ event: 'history', data: 'not json' })).toBeUndefined();
    expect(parseJobLiveEvent({ event: 'ping', data: '{}' })).toBeUndefined();
  });
});
