import { topologyNames } from '@conveyor/contracts';
import { consumedKindOfQueue, workQueueOf } from './consumed-kind.js';

describe('consumed kinds', () => {
  const names = topologyNames('conveyor');

  it('maps kinds to their work queues and back', () => {
    expect(workQueueOf(names, 'object-check')).toBe('conveyor.object.check');
    expect(workQueueOf(names, 'factorize')).toBe('conveyor.job.factorize');
    for (const kind of ['object-check', 'factorize', 'csv-sum', 'my-kind'])
      expect(consumedKindOfQueue(names, workQueueOf(names, kind))).toBe(kind);
  });

  it('names the job-events queue and nothing else', () => {
    expect(consumedKindOfQueue(names, 'conveyor.job-events')).toBe('job-events');
    expect(consumedKindOfQueue(names, 'conveyor.retry.100ms')).toBeUndefined();
    expect(consumedKindOfQueue(names, 'other.job.factorize')).toBeUndefined();
    expect(consumedKindOfQueue(names, 'conveyor.job.')).toBeUndefined();
  });
});
