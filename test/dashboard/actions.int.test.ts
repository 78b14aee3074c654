import { waitFor } from '@conveyor/testkit';
import {
  cleanupApp,
  createIsolatedEnv,
  jobFinished,
  notifierApp,
  producerApp,
  request,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { Receiver } from '../webhooks/receiver.js';
import { Browser, type WatchedPage } from './browser.js';
import { submitJob } from './submit-job.js';
import { DASHBOARD_KIND_NAMES, dashboardConsumer } from './dashboard-kinds.js';

/**
 * What an operator does from the dashboard, clicked in a real Chromium against the real
 * services: cancel, retry and redeliver on a job's page, redrive and purge dead letters that a
 * failing job produced for real, pause and resume a queue. Every action asks first and says
 * what happened.
 */
describe('dashboard actions', () => {
  let isolated: IsolatedEnv;
  const started: { stop(): Promise<void> }[] = [];
  let browser: Browser;
  let receiver: Receiver;
  let port: number;
  let tab: WatchedPage;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('dashactions', { jobKinds: DASHBOARD_KIND_NAMES });
    const env = { ...isolated.env, WEBHOOK_SECRET, WEBHOOK_ALLOW_LOOPBACK: 'true' };
    const producer = producerApp(env);
    for (const app of [producer, dashboardConsumer(env), notifierApp(env), cleanupApp(env)]) {
      await app.start();
      started.push(app);
    }
    port = producer.port;
    receiver = await new Receiver().start();
    browser = await Browser.launch();
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.stop();
    for (const app of started.reverse()) await app.stop();
    await isolated?.dispose();
  });

  beforeEach(async () => {
    tab = await browser.newPage();
  });

  afterEach(async () => {
    await tab.close();
  });

  const submit = async (kind: string, input: unknown, extra: Record<string, unknown> = {}) =>
    (await submitJob(port, kind, input, extra)).id;

  /** Clicks an action's button, then its confirmation, and returns the outcome it shows. */
  const act = async (label: string) => {
    const { page } = tab;
    await page.getByRole('button', { name: label, exact: true }).first().click();
    await page.getByRole('button', { name: `Yes, ${label.toLowerCase()}` }).click();
    const outcome = page.locator('.outcome').first();
    await outcome.waitFor();
    return {
      text: (await outcome.textContent()) ?? '',
      ok: (await outcome.getAttribute('role')) === 'status',
    };
  };

  /** The cleanup moves dead letters from their queue into PostgreSQL: re-read the page until these jobs' show. */
  const deadLettersListed = (jobIds: readonly string[]) =>
    waitFor(
      `dead letters of ${jobIds.length} jobs listed`,
      async () => {
        const counts = await Promise.all(
          jobIds.map((id) => tab.page.locator(`tr[data-job-id="${id}"]`).count()),
        );
        if (counts.every((count) => count > 0)) return true;
        await tab.page.reload();
        await tab.page.locator('[data-field="total"]').waitFor();
        return false;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );

  const statusShown = (status: string) =>
    tab.page.locator('[data-field="status"]', { hasText: status }).waitFor();

  it('cancels a running job from its page', async () => {
    const id = await submit('steps', { steps: 300, stepMs: 100 });
    await tab.open(port, `/ui/jobs/${id}`);
    await statusShown('running');
    const outcome = await act('Cancel job');
    expect(outcome.ok).toBe(true);
    expect(outcome.text).toMatch(/Cancel/);
    await statusShown('cancelled');
    await tab.screenshot('job-cancelled');
    tab.expectNoErrors();
  });

  it('retries a failed job from its page', async () => {
    const id = await submit('flaky', { text: 'again' });
    expect((await jobFinished(port, id)).status).toBe('failed');
    await tab.open(port, `/ui/jobs/${id}`);
    await statusShown('failed');
    const outcome = await act('Retry');
    expect(outcome).toMatchObject({ ok: true, text: expect.stringMatching(/Queued again/) });
    await statusShown('succeeded');
    expect(await tab.page.locator('[data-field="attempts"]').textContent()).toBe('2');

    // A job already succeeded has nothing to cancel: the button is off.
    expect(await tab.page.getByRole('button', { name: 'Cancel job', exact: true }).isDisabled()).toBe(true);
    tab.expectNoErrors();
  });

  it('submits a job from the jobs page, and shows a refusal in the API words', async () => {
    const { page } = tab;
    await tab.open(port, '/ui/jobs');
    await page.getByText('Submit a job').click();
    const form = page.locator('details.submit-job form');
    await form.getByLabel('Kind').fill('factorize');
    await form.getByLabel('Input (JSON)').fill('{"number": "12a"}');
    await form.getByRole('button', { name: 'Submit' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: /only the digits/ })
      .waitFor();
    tab.expectErrors(/status of 400/);

    await form.getByLabel('Input (JSON)').fill('{"number": "1234"}');
    await form.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
    await statusShown('succeeded');
    expect(await page.locator('pre.json', { hasText: '617' }).count()).toBe(1);
    tab.expectNoErrors();
  });

  it('redelivers a webhook from the job page and lists every attempt', async () => {
    const id = await submit('steps', { steps: 1, stepMs: 10 }, { callbackUrl: receiver.url });
    await jobFinished(port, id);
    await waitFor('the final push', () => receiver.forJob(id).some((w) => w.payload.status === 'succeeded'));
    await tab.open(port, `/ui/jobs/${id}`);
    const rows = tab.page.locator('table[aria-label="Webhook deliveries"] tr[data-delivery-id]');
    await tab.page.locator('tr[data-delivery-status="delivered"]').first().waitFor();
    const before = await rows.count();
    const pushesBefore = receiver.forJob(id).length;

    const outcome = await act('Redeliver webhook');
    expect(outcome).toMatchObject({ ok: true, text: expect.stringMatching(/Redelivery of event/) });
    await waitFor('a push more', () => receiver.forJob(id).length > pushesBefore);
    await waitFor('the new delivery on the page', async () => (await rows.count()) > before, {
      timeoutMs: 15_000,
    });
    await tab.page.locator('tr.attempt').first().waitFor();
    await tab.screenshot('job-deliveries');
    tab.expectNoErrors();
  });

  it('inspects, redrives and purges dead letters produced by failing jobs', async () => {
    const ids = [
      await submit('flaky', { text: 'one' }),
      await submit('flaky', { text: 'two' }),
      await submit('flaky', { text: 'three' }),
    ];
    for (const id of ids) expect((await jobFinished(port, id)).status).toBe('failed');
    const { page } = tab;
    await tab.open(port, '/ui/dead-letters');
    const rowOf = (id: string) => page.locator(`tr[data-job-id="${id}"]`);
    const [first, second, third] = ids.map(rowOf);
    if (first === undefined || second === undefined || third === undefined) throw new Error('three rows');
    await deadLettersListed(ids);

    await first.getByRole('button', { name: 'Inspect' }).click();
    await page.locator('tr.detail pre', { hasText: ids[0] }).first().waitFor();
    await tab.screenshot('dead-letters-inspect');

    await first.getByRole('button', { name: 'Redrive', exact: true }).click();
    await first.getByRole('button', { name: 'Yes, redrive' }).click();
    await first.waitFor({ state: 'detached' });

    // By kind: the filter offers the kind's own bulk actions.
    await page.getByLabel('Kind').fill('flaky');
    await page.getByLabel('Kind').press('Enter');
    await page.getByRole('button', { name: 'Redrive all flaky' }).click();
    await page.getByRole('button', { name: 'Yes, redrive all flaky' }).click();
    await page.locator('.outcome', { hasText: /[1-9][0-9]* redriven/ }).waitFor();
    await second.waitFor({ state: 'detached' });
    await page.locator('[data-field="total"]', { hasText: /^0 dead letters/ }).waitFor();

    // All, then purge all: two more failures, gone for good.
    const doomed = [await submit('flaky', { text: 'four' }), await submit('flaky', { text: 'five' })];
    for (const id of doomed) expect((await jobFinished(port, id)).status).toBe('failed');
    await tab.open(port, '/ui/dead-letters');
    await deadLettersListed(doomed);
    await page.getByRole('button', { name: 'Purge all', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, purge all' }).click();
    await page.locator('.outcome', { hasText: /^2 purged/ }).waitFor();
    await page.locator('[data-field="total"]', { hasText: /^0 dead letters/ }).waitFor();
    tab.expectNoErrors();
  });

  it('pauses and resumes a queue from the queues page', async () => {
    const { page } = tab;
    await tab.open(port, '/ui/queues');
    const row = page.locator('tr[data-queue][data-kind="steps"]').first();
    await row.waitFor();
    await row.getByRole('button', { name: 'Pause', exact: true }).click();
    await row.getByRole('button', { name: 'Yes, pause' }).click();
    await row.locator('.badge', { hasText: 'paused' }).waitFor();
    const paused = await request(port, 'GET', '/v1/queues');
    expect(paused.body.queues.find((q: { kind: string | null }) => q.kind === 'steps')?.paused).toBe(true);

    // A job submitted while paused runs once the queue is resumed.
    const id = await submit('steps', { steps: 1, stepMs: 10 });
    await row.getByRole('button', { name: 'Resume', exact: true }).click();
    await row.getByRole('button', { name: 'Yes, resume' }).click();
    await row.locator('.badge', { hasText: 'running' }).waitFor();
    expect((await jobFinished(port, id)).status).toBe('succeeded');
    await tab.screenshot('queues-resumed');
    tab.expectNoErrors();
  });
});
