import { parseJobData } from '@conveyor/contracts';
import type { JobRecord } from '@conveyor/jobs';
import { builtInWork } from './built-in-work.js';
import type { WorkContext } from './job.consumer.js';

describe('builtInWork', () => {
  const fields = {
    id: '7f1c1c9e-2b1a-4c1e-9a53-0d1f3c1f0a11',
    clientId: 'default',
    customId: null,
    requestHash: 'h',
    status: 'running',
    progress: { fraction: 0, message: null },
    error: null,
    attempts: 1,
    callbackUrl: null,
    cancelRequested: false,
    sequence: 2,
    createdAt: new Date(),
    updatedAt: new Date(),
    startedAt: new Date(),
    finishedAt: null,
    expiresAt: null,
    expired: false,
  } as const;
  const ctx: WorkContext = {
    signal: new AbortController().signal,
    reportProgress: () => undefined,
    attempt: 1,
  };
  const factorizeJob: JobRecord = { ...fields, ...parseJobData('factorize', { number: '6' }, null) };
  const double = builtInWork('factorize', async (job) => ({
    type: 'succeeded',
    result: { factors: ['2', '3'], product: job.input.number, verified: true },
  }));

  it('hands its kind’s jobs to the work, typed by the catalog', async () => {
    expect(await double(factorizeJob, ctx)).toEqual({
      type: 'succeeded',
      result: { factors: ['2', '3'], product: '6', verified: true },
    });
  });

  it('fails a job of another kind at once instead of running it on the wrong input', async () => {
    const other: JobRecord = { ...fields, ...parseJobData('lomo', { strength: 1 }, null) };
    expect(await double(other, ctx)).toEqual({
      type: 'failed',
      error: { code: 'wrong_kind', message: 'a lomo job reached the factorize work' },
      permanent: true,
    });
  });
});
