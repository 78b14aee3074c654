import { topologyNames } from '@conveyor/contracts';
import { pausableKinds, queueInfos, topologyQueues } from './queue-list.js';

describe('queue list', () => {
  const names = topologyNames('c');

  it('lists work queues, retry tiers, the dead-letter and events queues', () => {
    const queues = topologyQueues(names, ['factorize', 'csv-sum', 'factorize'], [1000, 100, 1000]);
    expect(queues.map((queue) => [queue.name, queue.role, queue.kind])).toEqual([
      ['c.object.check', 'work', 'object-check'],
      ['c.job.csv-sum', 'work', 'csv-sum'],
      ['c.job.factorize', 'work', 'factorize'],
      ['c.retry.100ms', 'retry', null],
      ['c.retry.1000ms', 'retry', null],
      ['c.dead-letter', 'dead-letter', null],
      ['c.job-events', 'events', null],
    ]);
  });

  it('fills figures, zeros for a queue not there, and flags paused work queues', () => {
    const queues = topologyQueues(names, ['factorize'], []);
    const figures = new Map([
      ['c.job.factorize', { messages: 3, ready: null, unacked: null, consumers: 1, rates: null }],
    ]);
    const infos = queueInfos(queues, figures, new Set(['factorize']));
    expect(infos[1]).toMatchObject({ name: 'c.job.factorize', messages: 3, consumers: 1, paused: true });
    expect(infos[0]).toMatchObject({ name: 'c.object.check', messages: 0, consumers: 0, paused: false });
    expect(pausableKinds(['factorize'])).toEqual(['object-check', 'factorize']);
  });
});
