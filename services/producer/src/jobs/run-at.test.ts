import { AppError } from '@conveyor/platform';
import { runAtOf } from './run-at.js';

const NOW = new Date('2026-12-08T01:00:00.000Z');
const YEAR_MS = 366 * 86_400_000;

function refusal(fields: Parameters<typeof runAtOf>[0], prefix?: 'body.' | '') {
  try {
    runAtOf(fields, NOW, YEAR_MS, prefix);
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, status: error.status, details: error.details };
    throw error;
  }
  throw new Error('not refused');
}

describe('runAtOf', () => {
  it('runs now without either field', () => {
    expect(runAtOf({}, NOW, YEAR_MS)).toBeUndefined();
  });

  it('counts delayMs from now, and reads runAt with its offset', () => {
    expect(runAtOf({ delayMs: 1500 }, NOW, YEAR_MS)).toEqual(new Date('2026-12-08T01:00:01.500Z'));
    expect(runAtOf({ delayMs: 0 }, NOW, YEAR_MS)).toEqual(NOW);
    expect(runAtOf({ runAt: '2026-12-08T03:30:00+02:00' }, NOW, YEAR_MS)).toEqual(
      new Date('2026-12-08T01:30:00.000Z'),
    );
  });

  it('keeps a time already past (the job runs now)', () => {
    expect(runAtOf({ runAt: '2020-01-01T00:00:00Z' }, NOW, YEAR_MS)).toEqual(
      new Date('2020-01-01T00:00:00Z'),
    );
  });

  it('refuses both fields, naming delayMs', () => {
    expect(refusal({ runAt: '2026-12-08T02:00:00Z', delayMs: 10 })).toMatchObject({
      code: 'run_at_conflict',
      status: 400,
      details: [{ path: 'body.delayMs' }],
    });
  });

  it('refuses a delay or a time beyond the maximum, naming the field', () => {
    expect(runAtOf({ delayMs: YEAR_MS }, NOW, YEAR_MS)).toEqual(new Date(NOW.getTime() + YEAR_MS));
    expect(refusal({ delayMs: YEAR_MS + 1 })).toMatchObject({
      code: 'delay_too_long',
      details: [{ path: 'body.delayMs' }],
    });
    expect(refusal({ runAt: '2028-01-01T00:00:00Z' })).toMatchObject({
      code: 'delay_too_long',
      details: [{ path: 'body.runAt' }],
    });
    expect(refusal({ delayMs: YEAR_MS + 1 }, '')).toMatchObject({ details: [{ path: 'delayMs' }] });
  });
});
