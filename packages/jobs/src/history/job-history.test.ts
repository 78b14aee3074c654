import { jobHistoryEntries, type RecordedJobEvent } from './job-history.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 8, 1, 0, seconds));
const event = (
  sequence: number,
  status: RecordedJobEvent['status'],
  seconds: number,
  extra: Partial<RecordedJobEvent> = {},
) => ({
  sequence,
  status,
  attempt: 1,
  progress: { fraction: 0, message: null },
  error: null,
  occurredAt: at(seconds),
  ...extra,
});

describe('jobHistoryEntries', () => {
  it('tells status changes from progress and merges delivery attempts by time', () => {
    const entries = jobHistoryEntries(
      [
        event(4, 'succeeded', 4),
        event(1, 'queued', 0, { attempt: 0 }),
        event(2, 'running', 1),
        event(3, 'running', 2, { progress: { fraction: 0.5, message: 'half' } }),
      ],
      [
        {
          deliveryId: '5b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a',
          sequence: 4,
          attempt: 1,
          url: 'https://example.com/hook',
          statusCode: 200,
          latencyMs: 12,
          error: null,
          startedAt: at(4),
        },
        {
          deliveryId: '6b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a',
          sequence: 1,
          attempt: 1,
          url: 'https://example.com/hook',
          statusCode: null,
          latencyMs: 5,
          error: 'refused',
          startedAt: at(1),
        },
      ],
    );
    expect(entries.map((entry) => [entry.type, entry.sequence])).toEqual([
      ['status', 1],
      ['status', 2],
      ['delivery', 1],
      ['progress', 3],
      ['status', 4],
      ['delivery', 4],
    ]);
    expect(entries[3]).toEqual({
      type: 'progress',
      at: at(2).toISOString(),
      sequence: 3,
      attempt: 1,
      progress: { fraction: 0.5, message: 'half' },
    });
  });

  it('keeps the error of a failed attempt that goes back to queued, and a retry after failed', () => {
    const error = { code: 'boom', message: 'it broke' };
    const entries = jobHistoryEntries(
      [
        event(1, 'queued', 0, { attempt: 0 }),
        event(2, 'queued', 1, { error }),
        event(3, 'failed', 2, { attempt: 2, error }),
        event(4, 'queued', 3, { attempt: 2, error }),
      ],
      [],
    );
    expect(
      entries.map(
        (entry) => entry.type === 'status' && [entry.status, entry.attempt, entry.error?.code ?? null],
      ),
    ).toEqual([
      ['queued', 0, null],
      ['queued', 1, 'boom'],
      ['failed', 2, 'boom'],
      ['queued', 2, 'boom'],
    ]);
  });
});
