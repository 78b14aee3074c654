import { topologyNames } from '@conveyor/contracts';
import { workTopology } from './work-topology.js';

describe('workTopology', () => {
  const spec = workTopology(topologyNames('p'), {
    kinds: ['object.check'],
    retryDelaysMs: [100, 1_000],
    deliveryLimit: 7,
  });

  it('declares quorum work queues with a delivery limit and dead-lettering', () => {
    const work = spec.queues.find((q) => q.name === 'p.object.check')!;
    expect(work.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 7,
      'x-dead-letter-exchange': 'p.dlx',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  });

  it('declares one retry queue per tier whose TTL dead-letters back to the work exchange', () => {
    const tiers = spec.queues.filter((q) => q.name.startsWith('p.retry.'));
    expect(
      tiers.map((q) => [q.name, q.arguments['x-message-ttl'], q.arguments['x-dead-letter-exchange']]),
    ).toEqual([
      ['p.retry.100ms', 100, 'p.work'],
      ['p.retry.1000ms', 1_000, 'p.work'],
    ]);
    const binding = spec.bindings.find((b) => b.queue === 'p.retry.100ms')!;
    expect(binding.arguments).toEqual({ 'x-match': 'all', 'conveyor-retry-tier': '100' });
  });
});
