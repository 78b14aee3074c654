import { ConveyorClient, type DeadLetter } from '@conveyor/client';
import { waitFor } from '@conveyor/testkit';
import { startAuthStack, type AuthStack } from './auth-stack.js';

/** The operator calls of @conveyor/client against a real producer, consumer and cleanup, API keys on. */
describe('@conveyor/client: operator calls', () => {
  let stack: AuthStack;
  let operator: ConveyorClient;
  let client: ConveyorClient;

  beforeAll(async () => {
    stack = await startAuthStack('clientops', { cleanup: true });
    operator = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: stack.operatorKey });
    client = new ConveyorClient({
      baseUrl: stack.baseUrl,
      apiKey: (await operator.createClient({ name: 'shop', role: 'client' })).apiKey,
    });
  });

  afterAll(() => stack.stop());

  /** A csv-sum job whose file is missing fails at once (not_found) and its message is dead-lettered. */
  const deadLetterOf = async (): Promise<DeadLetter> => {
    const job = await client.wait(
      await client.submit('csv-sum', { storage: 'local', path: `missing-${Math.random()}.csv` }),
    );
    expect(job).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    return waitFor(`job ${job.id} dead-lettered`, async () => {
      for await (const letter of operator.deadLetters.list({ kind: 'csv-sum' }))
        if (letter.jobId === job.id) return letter;
      return undefined;
    });
  };

  it('lists, reads, redrives and purges dead letters', async () => {
    const first = await deadLetterOf();
    const second = await deadLetterOf();
    const page = await operator.deadLetters.page({ kind: 'csv-sum', limit: 1 });
    expect(page).toMatchObject({ total: 2, deadLetters: [expect.objectContaining({ kind: 'csv-sum' })] });
    expect(page.nextCursor).not.toBeNull();
    const listed: string[] = [];
    for await (const letter of operator.deadLetters.list({ kind: 'csv-sum', limit: 1 }))
      listed.push(letter.id);
    expect(listed.sort()).toEqual([first.id, second.id].sort());

    const detail = await operator.deadLetters.get(first.id);
    expect(detail).toMatchObject({ id: first.id, jobId: first.jobId, reason: { code: expect.any(String) } });

    expect(await operator.deadLetters.redrive(first.id)).toEqual({ redriven: 1 });
    await expect(operator.deadLetters.get(first.id)).rejects.toMatchObject({ status: 404 });
    expect(await operator.deadLetters.purge({ ids: [second.id] })).toEqual({ purged: 1 });
    expect(await operator.deadLetters.purge({ all: true })).toMatchObject({ purged: expect.any(Number) });
    await expect(client.deadLetters.page()).rejects.toMatchObject({ code: 'operator_only', status: 403 });
  });

  it('lists queues, pauses and resumes a kind', async () => {
    const list = await operator.queues.list();
    expect(list.source).toMatch(/^(amqp|management)$/);
    expect(list.queues.map((queue) => queue.kind)).toEqual(expect.arrayContaining(['factorize', 'csv-sum']));
    expect(await operator.queues.pause('csv-sum')).toEqual({ kind: 'csv-sum', paused: true });
    expect(
      (await operator.queues.list()).queues.find((q) => q.role === 'work' && q.kind === 'csv-sum')?.paused,
    ).toBe(true);
    expect(await operator.queues.resume('csv-sum')).toEqual({ kind: 'csv-sum', paused: false });
    await expect(operator.queues.pause('no-such-kind')).rejects.toMatchObject({
      code: 'unknown_kind',
      status: 404,
    });
  });

  it('reads the workers and the overview', async () => {
    const { workers } = await operator.workers.list();
    // The in-process consumer hosts the built-in kinds.
    expect(workers).toEqual([
      expect.objectContaining({
        alive: true,
        pid: process.pid,
        kinds: expect.arrayContaining(['factorize']),
      }),
    ]);
    const overview = await operator.overview();
    expect(overview).toMatchObject({
      jobs: { byStatus: expect.any(Object) },
      deadLetters: expect.any(Number),
    });
  });

  it('creates clients of either role over the API; a bad body is a 400 naming the field', async () => {
    const made = await operator.createClient({ name: 'second-operator', role: 'operator' });
    expect(made).toMatchObject({ role: 'operator', apiKey: expect.stringMatching(/^cvk_/) });
    expect(made.webhookSecret).toMatch(/^whsec_/);
    const second = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: made.apiKey });
    expect((await second.overview()).jobs).toBeDefined();
    await expect(operator.createClient({ name: '' })).rejects.toMatchObject({
      status: 400,
      details: [expect.objectContaining({ path: 'body.name' })],
    });
  });

  it("rotates the key's webhook secret", async () => {
    const rotated = await client.rotateWebhookSecret();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.previousValidForMs).toBeGreaterThan(0);
  });
});
