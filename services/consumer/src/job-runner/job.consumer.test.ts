import type { HandlerContext } from '@conveyor/broker';
import type { JobRecord, JobStore } from '@conveyor/jobs';
import { PermanentError, silentLogger } from '@conveyor/platform';
import { jobHandler, type JobWork } from './job.consumer.js';

/**
 * How the runner decides, against a store double: read the row, run, and commit `running` only
 * for a run that outlasts `runningAfterMs`; read the row again only when a change is refused.
 */
describe('jobHandler', () => {
  const jobId = '7f1c1c9e-2b1a-4c1e-9a53-0d1f3c1f0a11';
  const RUNNING_AFTER_MS = 30;
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

  function setUp(store: Partial<Record<keyof JobStore, jest.Mock>>, runMs = 0) {
    const calls = { work: 0, aborted: 0, changes: [] as string[] };
    const changed = (how: string) =>
      jest.fn(async (_id: string, to: string) => {
        calls.changes.push(`${how}:${to}`);
        return { job: job({ status: to as JobRecord['status'] }), outbox: [] };
      });
    const fullStore = {
      load: jest.fn().mockResolvedValue(job()),
      get: jest.fn(),
      start: jest.fn(async () => {
        calls.changes.push('start');
        return { job: job({ status: 'running' }), outbox: [] };
      }),
      republishLatestEvent: jest.fn().mockResolvedValue([]),
      heartbeat: jest.fn().mockResolvedValue({ cancelRequested: false }),
      transition: changed('transition'),
      startAndFinish: changed('startAndFinish'),
      ...store,
    };
    const work: JobWork = async (_job, { signal }) => {
      calls.work += 1;
      if (runMs > 0) await new Promise((resolve) => setTimeout(resolve, runMs));
      if (signal.aborted) {
        calls.aborted += 1;
        return { type: 'cancelled' };
      }
      return { type: 'succeeded', result: { ok: true } };
    };
    const handle = jobHandler(
      {
        store: fullStore as unknown as JobStore,
        sendNow: async () => undefined,
        maxAttempts: 3,
        resultTtlMs: 1_000,
        checkIntervalMs: 1_000,
        runningAfterMs: RUNNING_AFTER_MS,
      },
      work,
    );
    return { handle: () => handle({ jobId }, ctx()), store: fullStore, calls };
  }

  it('starts and finishes a short run in one change, never committing running', async () => {
    const { handle, store, calls } = setUp({});
    await handle();
    expect(store.start).not.toHaveBeenCalled();
    expect(store.startAndFinish).toHaveBeenCalledWith(
      jobId,
      'succeeded',
      expect.objectContaining({ result: { ok: true }, startedAt: expect.any(Date) }),
      4_000,
      'c',
    );
    expect(calls).toEqual({ work: 1, aborted: 0, changes: ['startAndFinish:succeeded'] });
  });

  it('commits running for a run that outlasts runningAfterMs, then its end from running', async () => {
    const { handle, calls } = setUp({}, RUNNING_AFTER_MS * 4);
    await handle();
    expect(calls).toEqual({ work: 1, aborted: 0, changes: ['start', 'transition:succeeded'] });
  });

  it('stops a run whose start is refused meanwhile, and finds out why (here: finished elsewhere)', async () => {
    const { handle, store, calls } = setUp(
      {
        start: jest.fn().mockResolvedValue(undefined),
        get: jest.fn().mockResolvedValue(job({ status: 'succeeded' })),
      },
      RUNNING_AFTER_MS * 4,
    );
    await handle();
    expect(calls).toEqual({ work: 1, aborted: 1, changes: [] });
    expect(store.republishLatestEvent).toHaveBeenCalled();
  });

  it('drops the result of a short run whose one change is refused (cancelled meanwhile)', async () => {
    const { handle, store, calls } = setUp({
      startAndFinish: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job({ status: 'cancelled' })),
    });
    await handle();
    expect(calls.work).toBe(1);
    expect(store.transition).not.toHaveBeenCalled();
    expect(store.republishLatestEvent).toHaveBeenCalled();
  });

  it('leaves a job running elsewhere alone (job_busy) without running it', async () => {
    // Heartbeating: every read finds it freshly touched.
    const { handle, calls } = setUp({ load: jest.fn(async () => job({ status: 'running' })) });
    await expect(handle()).rejects.toMatchObject({ code: 'job_busy' });
    expect(calls.work).toBe(0);
  });

  it('runs a job left running by a runner that stopped heartbeating', async () => {
    const { handle, calls } = setUp({
      load: jest.fn().mockResolvedValue(job({ status: 'running', updatedAt: new Date(Date.now() - 10_000) })),
    });
    await handle();
    expect(calls).toEqual({ work: 1, aborted: 0, changes: ['startAndFinish:succeeded'] });
  });

  it('cancels a job whose cancel was requested while queued, without running it', async () => {
    const { handle, calls } = setUp({ load: jest.fn().mockResolvedValue(job({ cancelRequested: true })) });
    await handle();
    expect(calls).toEqual({ work: 0, aborted: 0, changes: ['transition:cancelled'] });
  });

  it('republishes the final event of a finished job without running it', async () => {
    const { handle, store, calls } = setUp({
      load: jest.fn().mockResolvedValue(job({ status: 'succeeded' })),
    });
    await handle();
    expect(store.republishLatestEvent).toHaveBeenCalled();
    expect(calls.work).toBe(0);
  });

  it('fails permanently for a job that does not exist', async () => {
    const { handle } = setUp({ load: jest.fn().mockResolvedValue(undefined) });
    await expect(handle()).rejects.toBeInstanceOf(PermanentError);
  });

  it('tries once more when the row changed between the read and the change, then leaves it to the retry tier', async () => {
    const { handle, store, calls } = setUp({
      startAndFinish: jest.fn().mockResolvedValue(undefined),
      get: jest.fn().mockResolvedValue(job()),
    });
    await expect(handle()).rejects.toMatchObject({ code: 'job_busy' });
    expect(store.load).toHaveBeenCalledTimes(2);
    expect(calls.work).toBe(2);
  });
});
