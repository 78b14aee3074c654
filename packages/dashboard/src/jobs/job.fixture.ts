import type { Job } from '@conveyor/contracts';

/** A job as the API shows one, for the unit tests: queued, fresh, with the fields given. */
export function aJob(fields: Partial<Job> = {}): Job {
  return {
    id: '6f0c1f8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f',
    kind: 'factorize',
    status: 'queued',
    customId: null,
    input: {},
    progress: { fraction: 0, message: null },
    result: null,
    error: null,
    attempts: 0,
    callbackUrl: null,
    createdAt: '2026-12-08T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    runAt: null,
    expired: false,
    timeoutMs: null,
    maxAttempts: null,
    ...fields,
  };
}
