import { FactorizePool, INLINE_BELOW } from './factorize-pool.js';

/** Small numbers are factorized on the calling thread; larger ones still go to a worker (from the compiled dist). */
describe('FactorizePool', () => {
  const pool = new FactorizePool({ threads: 1 });
  const tasksRunByWorkers = () => pool.completedInWorkers;
  const options = () => ({
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    onProgress: () => undefined,
  });

  afterAll(() => pool.close());

  it('factorizes numbers below 2^40 without a worker', async () => {
    expect(await pool.run('1000000', options())).toEqual({
      type: 'done',
      factors: ['2', '2', '2', '2', '2', '2', '5', '5', '5', '5', '5', '5'],
    });
    expect(await pool.run('999985999949', options())).toEqual({
      type: 'done',
      factors: ['999983', '1000003'],
    });
    expect(await pool.run((INLINE_BELOW - 1n).toString(), options())).toEqual({
      type: 'done',
      factors: ['3', '5', '5', '11', '17', '31', '41', '61681'],
    });
    expect(tasksRunByWorkers()).toBe(0);
  });

  it('hands 2^40 and above to a worker', async () => {
    expect(await pool.run(INLINE_BELOW.toString(), options())).toEqual({
      type: 'done',
      factors: Array.from({ length: 40 }, () => '2'),
    });
    expect(tasksRunByWorkers()).toBe(1);
  });

  it('does not start a job already stopped', async () => {
    const stopped = new AbortController();
    stopped.abort();
    expect(await pool.run('6', { ...options(), signal: stopped.signal })).toEqual({ type: 'stopped' });
  });
});
