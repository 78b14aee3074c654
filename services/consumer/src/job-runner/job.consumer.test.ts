import type { HandlerContext } from '@conveyor/broker';
import type { JobRecord, JobStore } from '@conveyor/jobs';
import { PermanentError, silentLogger } from '@conveyor/platform';
import { jobHandler, type JobWork } from './job.consumer.js';

/** How the runner decides, against a store double: start first, read the row only when refused. */
describe('jobHandler starting a job', () => {
  const jobId = '7f1c1c9e-2b1a-4c1e-9a53-0d1f3c1f0a11';
  const job = (over: Partial<JobRecord> = {}): JobRecord =>
    ({
      id: jobId,
      kind: 'factorize',
      status: 'queued',
      cancelRequested: false,
      updatedAt: new Date(),
      sequence: 1,
      ...over,
    }) as JobRecord;
  const ctx = (): HandlerContext =>
    ({
      log: silentLogger(),
      signal: new AbortController().signal,
      envelope: { correlationId: 'c', attempt: 0 },
    }) as unknown as HandlerContext;

  function setUp(store: Partial<Record<keyof JobStore, jest.Mock>>) {
    const calls = { work: 0, statuses: [] as string[] };
    const fullStore = {
      start: jest.fn(),
      get: jest.fn(),
      republishLatestEvent: jest.fn().mockResolvedValue([]),
      heartbeat: jest.fn().mockResolvedValue({ cancelRequested: false }),
      transition: jest.fn(async (_id: string, to: string) => {
        calls.statuses.push(to);
        return { job: job({ status: to as JobRecord['status'] }), outbox: [] };
      }),
      ...store,
    };
    const work: JobWork = async () => {
      calls.work += 1;
      return { type: 'succeeded', result: { ok: true } };
    };
    const handle = jobHandler(
      {
        store: fullStore as unknown as JobStore,
        sendNow: async () => undefined,
        maxAttempts: 3,
        resultTtlMs: 1_000,
        checkIntervalMs: 1_000,
      },
      work,
    );
    return { handle: () => handle({ jobId }, ctx()), store: fullStore, calls };
  }

  it('starts without reading the row and runs the work', async () => {
    const { handle, store, calls } = setUp({
      start: jest.fn().mockResolvedValue({ job: job({ status: 'running' }), outbox: [] }),
    });
    await handle();
    expect(store.start).toHaveBeenCalledWith(jobId, 4_000, 'c');
    expect(store.get).not.toHaveBeenCalled();
    expect(calls).toEqual({ work: 1, statuses: ['succeeded'] });
  });

  it('leaves a job running elsewhere alone (job_busy)', async () => {
    const { handle, calls } = setUp({
      start: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job({ status: 'running' })),
    });
    await expect(handle()).rejects.toMatchObject({ code: 'job_busy' });
    expect(calls.work).toBe(0);
  });

  it('cancels a job whose cancel was requested while queued, without running it', async () => {
    const { handle, calls } = setUp({
      start: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job({ cancelRequested: true })),
    });
    await handle();
    expect(calls).toEqual({ work: 0, statuses: ['cancelled'] });
  });

  it('republishes the final event of a finished job', async () => {
    const { handle, store, calls } = setUp({
      start: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job({ status: 'succeeded' })),
    });
    await handle();
    expect(store.republishLatestEvent).toHaveBeenCalled();
    expect(calls.work).toBe(0);
  });

  it('fails permanently for a job that does not exist', async () => {
    const { handle } = setUp({
      start: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(undefined),
    });
    await expect(handle()).rejects.toBeInstanceOf(PermanentError);
  });

  it('tries once more when the row changed between the start and the read, then leaves it to the retry tier', async () => {
    const { handle, store } = setUp({
      start: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job()),
    });
    await expect(handle()).rejects.toMatchObject({ code: 'job_busy' });
    expect(store.start).toHaveBeenCalledTimes(2);
  });
});
