import { canTransition, isTerminal, JobStatus, JOB_TRANSITIONS, sourcesOf } from './jobs.js';

describe('job state machine', () => {
  it('lets nothing leave a final state', () => {
    for (const status of ['succeeded', 'failed', 'cancelled'] as const) {
      expect(isTerminal(status)).toBe(true);
      for (const to of JobStatus.options) expect(canTransition(status, to)).toBe(false);
    }
  });

  it('allows the lifecycle queued → running → succeeded, retries and cancellation', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'running')).toBe(true); // progress
    expect(canTransition('running', 'queued')).toBe(true); // waiting for a retry
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('queued', 'cancelled')).toBe(true);
    expect(canTransition('running', 'cancelled')).toBe(true);
    expect(canTransition('queued', 'succeeded')).toBe(false);
  });

  it('lets a scheduled job only become queued (due) or cancelled, never run directly', () => {
    expect(JOB_TRANSITIONS.scheduled).toEqual(['queued', 'cancelled']);
    expect(canTransition('scheduled', 'running')).toBe(false);
    expect(canTransition('queued', 'scheduled')).toBe(false);
    expect(isTerminal('scheduled')).toBe(false);
  });

  it('derives the guard of each transition from the one table', () => {
    expect(sourcesOf('running')).toEqual(['queued', 'running']);
    expect(sourcesOf('succeeded')).toEqual(['running']);
    expect(sourcesOf('cancelled')).toEqual(['scheduled', 'queued', 'running']);
    expect(sourcesOf('queued')).toEqual(['scheduled', 'running']);
    expect(Object.keys(JOB_TRANSITIONS)).toEqual(JobStatus.options);
  });
});
