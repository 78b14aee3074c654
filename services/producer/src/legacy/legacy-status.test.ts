import { JobStatus } from '@conveyor/contracts';
import { CELERY_STATES, celeryStateOf, factorizationAnswer, type LegacyJobView } from './legacy-status.js';

const job = (overrides: Partial<LegacyJobView>): LegacyJobView => ({
  status: 'queued',
  attempts: 0,
  error: null,
  result: null,
  expired: false,
  ...overrides,
});

const timeout = { code: 'timeout', message: 'gave up after 60000 ms' };

describe('celeryStateOf', () => {
  it.each<[string, string, Partial<LegacyJobView>]>([
    ['a fresh queued job', 'SENT', { status: 'queued' }],
    ['a running job', 'STARTED', { status: 'running', attempts: 1 }],
    ['a job running its second attempt', 'STARTED', { status: 'running', attempts: 2 }],
    ['a failed attempt waiting for its retry', 'RETRY', { status: 'queued', attempts: 1, error: timeout }],
    ['a succeeded job', 'SUCCESS', { status: 'succeeded', attempts: 1 }],
    ['a failed job', 'FAILURE', { status: 'failed', attempts: 3, error: timeout }],
    ['a cancelled job', 'FAILURE', { status: 'cancelled' }],
  ])('says %s is %s', (_name, state, overrides) => {
    expect(celeryStateOf(job(overrides))).toBe(state);
  });

  it('answers one of the states the old test suite accepts for every status, never PENDING', () => {
    for (const status of JobStatus.options) {
      for (const attempts of [0, 1]) {
        for (const error of [null, timeout]) {
          const state = celeryStateOf(job({ status, attempts, error }));
          expect(CELERY_STATES).toContain(state);
          expect(state).not.toBe('PENDING');
        }
      }
    }
  });
});

describe('factorizationAnswer', () => {
  it('says "Calculating..." until the job is done, retries included', () => {
    expect(factorizationAnswer(job({ status: 'queued' }))).toEqual({ result: 'Calculating...' });
    expect(factorizationAnswer(job({ status: 'running', attempts: 1 }))).toEqual({
      result: 'Calculating...',
    });
    expect(factorizationAnswer(job({ status: 'queued', attempts: 1, error: timeout }))).toEqual({
      result: 'Calculating...',
    });
  });

  it('joins the factors with commas, as the old worker did', () => {
    const done = (factors: string[]) =>
      job({ status: 'succeeded', result: { factors, product: '', verified: true } });
    expect(factorizationAnswer(done(['2', '617']))).toEqual({ result: '2,617' });
    expect(factorizationAnswer(done(['617']))).toEqual({ result: '617' });
    expect(factorizationAnswer(done(['2', '2', '3']))).toEqual({ result: '2,2,3' });
  });

  it('has nothing to show once the result was dropped after its retention', () => {
    expect(factorizationAnswer(job({ status: 'succeeded', result: null, expired: true }))).toBeUndefined();
  });

  it('says how a job that will never have factors ended', () => {
    expect(factorizationAnswer(job({ status: 'failed', attempts: 3, error: timeout }))).toEqual({
      result: 'Failed',
      error: timeout,
    });
    expect(factorizationAnswer(job({ status: 'cancelled' }))).toEqual({ result: 'Cancelled' });
  });
});
