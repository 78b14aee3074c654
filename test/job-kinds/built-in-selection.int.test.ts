import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, waitFor } from '@conveyor/testkit';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/**
 * BUILT_IN_KINDS as a list: a consumer runs only the built-in work it names (a fleet per work
 * queue, each scaled on its own backlog), and two such consumers together serve everything.
 */
describe('a consumer running some of the built-in kinds', () => {
  let isolated: IsolatedEnv;
  let probe: BrokerProbe;
  const apps: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('builtinselect');
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await probe.close();
    await isolated.dispose();
  });

  it('consumes only the queues of the kinds it names', async () => {
    const producer = producerApp(isolated.env);
    apps.push(producer);
    await producer.start(); // declares every built-in queue
    const factorizer = consumerApp({ ...isolated.env, BUILT_IN_KINDS: 'factorize' });
    apps.push(factorizer);
    await factorizer.start();
    const names = topologyNames(isolated.prefix);
    const consumersOf = async (kind: Parameters<typeof names.workQueue>[0]) =>
      (await probe.queue(names.workQueue(kind))).consumers;
    // Consumers attach in the background once started.
    await waitFor('the factorize queue consumed', async () => (await consumersOf('job.factorize')) === 1);
    expect(await consumersOf('object.check')).toBe(0);
    expect(await consumersOf('job.csv-sum')).toBe(0);
    expect(await consumersOf('job.image-resize')).toBe(0);

    const { status, body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '91' },
    });
    expect(status).toBe(202);
    await waitFor('factorized', async () => {
      const job = (await request(producer.port, 'GET', `/v1/jobs/${body.id}`)).body;
      return job.status === 'succeeded' ? job : undefined;
    });

    const checker = consumerApp({ ...isolated.env, BUILT_IN_KINDS: 'object-check' });
    apps.push(checker);
    await checker.start();
    await waitFor('the object-check queue consumed', async () => (await consumersOf('object.check')) === 1);
    expect(await consumersOf('job.factorize')).toBe(1);
  });
});
