import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Job } from '@conveyor/contracts';
import { waitFor } from '@conveyor/testkit';
import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';
import { Browser, type WatchedPage } from './browser.js';
import { submitJob } from './submit-job.js';
import { DASHBOARD_KIND_NAMES, dashboardConsumer } from './dashboard-kinds.js';

/**
 * Every page of the dashboard in a real Chromium, against a real producer and consumer: each
 * loads without a console error, a job submitted through the API shows up in the list without
 * a reload, and its page follows its progress live at an address that survives a reload.
 */
describe('dashboard pages', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof dashboardConsumer>;
  let browser: Browser;
  let port: number;
  let tab: WatchedPage;
  let storageRoot: string;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('dashpages', { jobKinds: DASHBOARD_KIND_NAMES });
    storageRoot = await mkdtemp(join(tmpdir(), 'dashboard-images-'));
    const env = { ...isolated.env, STORAGE_ROOT: storageRoot };
    producer = producerApp(env);
    consumer = dashboardConsumer(env);
    await producer.start();
    await consumer.start();
    port = producer.port;
    browser = await Browser.launch();
  });

  afterAll(async () => {
    await browser?.close();
    await consumer?.stop();
    await producer?.stop();
    await isolated?.dispose();
    await rm(storageRoot, { recursive: true, force: true });
  });

  beforeEach(async () => {
    tab = await browser.newPage();
  });

  afterEach(async () => {
    await tab.close();
  });

  const submit = async (kind: string, input: unknown, extra: Record<string, unknown> = {}) =>
    (await submitJob(port, kind, input, extra)).id;

  it('loads every page with no console error', async () => {
    const id = await submit('steps', { steps: 1, stepMs: 10 });
    await waitFor(
      'the job to finish',
      async () => (await request(port, 'GET', `/v1/jobs/${id}`)).body.status === 'succeeded',
    );
    const { page } = tab;

    await tab.open(port, '/ui');
    await page.locator('table[aria-label="Jobs by status and kind"] tr[data-kind="steps"]').waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await tab.screenshot('overview');

    await tab.open(port, '/ui/queues');
    await page.locator('tr[data-kind="steps"]').first().waitFor();
    await tab.screenshot('queues');

    await tab.open(port, '/ui/workers');
    await page.locator('table[aria-label="Workers"] tbody tr').first().waitFor();
    expect(await page.locator('table[aria-label="Workers"]').textContent()).toContain('steps');
    await tab.screenshot('workers');

    await tab.open(port, '/ui/jobs');
    await page.locator(`tr[data-job-id="${id}"]`).waitFor();
    await tab.screenshot('jobs');

    await tab.open(port, '/ui/dead-letters');
    await page.locator('[data-field="total"]').waitFor();
    await tab.screenshot('dead-letters');

    await tab.open(port, `/ui/jobs/${id}`);
    await page.locator('[data-field="status"]', { hasText: 'succeeded' }).waitFor();
    await tab.screenshot('job');
    expect(await page.title()).toBe(`Job ${id.slice(0, 8)} · Conveyor`);

    await tab.open(port, '/ui/no/such/page');
    expect(await page.locator('main h1').textContent()).toBe('Not found');

    // A job that does not exist: the API's 404 in its words (Chromium logs the failed requests).
    await tab.open(port, '/ui/jobs/00000000-0000-4000-8000-000000000000');
    await page
      .getByRole('alert')
      .filter({ hasText: /no job 00000000/ })
      .first()
      .waitFor();
    tab.expectErrors(/status of 404/);

    // The navigation bar moves between pages without a reload.
    await page.getByRole('link', { name: 'Queues' }).click();
    await page.locator('main h1', { hasText: 'Queues' }).waitFor();
    tab.expectNoErrors();
  });

  it('shows a job submitted through the API in the list as it appears and changes', async () => {
    const { page } = tab;
    await tab.open(port, '/ui/jobs');
    await page.locator('table[aria-label="Jobs"]').waitFor();
    // The list is never polled: a row turning `succeeded` can only have come through the stream.
    await page.locator('[data-live="open"]').waitFor();
    const id = await submit('steps', { steps: 3, stepMs: 200 }, { customId: 'live-list' });
    const row = page.locator(`tr[data-job-id="${id}"]`);
    await row.waitFor();
    await row.locator('.badge', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });

    // The search box: a customId filters the list, a job id opens the job.
    await page.getByLabel('Job id or customId').fill('live-list');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(/\/ui\/jobs\?customId=live-list$/);
    await row.waitFor();
    // The client filter (operators see every client's jobs; with auth off all are `default`'s).
    await tab.open(port, '/ui/jobs?clientId=nobody');
    await page.getByText('No job matches these filters.').waitFor();
    await page.getByLabel('Client').fill('default');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/\/ui\/jobs\?clientId=default$/);
    await row.waitFor();

    await page.getByLabel('Job id or customId').fill(id);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(new RegExp(`/ui/jobs/${id}$`));
    await page.locator('[data-field="status"]', { hasText: 'succeeded' }).waitFor();
    tab.expectNoErrors();
  });

  it('follows a job live on its own address: the progress bar moves, the timeline grows', async () => {
    const { page } = tab;
    const id = await submit('steps', { steps: 8, stepMs: 400 });
    await tab.open(port, `/ui/jobs/${id}`);
    const bar = page.getByRole('progressbar');
    const seen = new Set<number>();
    await waitFor(
      'the progress bar to reach 100 %',
      async () => {
        const value = Number(await bar.getAttribute('aria-valuenow'));
        seen.add(value);
        return value === 100;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
    // It moved through the middle on its way, as the job reported it, without a reload.
    expect([...seen].filter((value) => value > 0 && value < 100).length).toBeGreaterThanOrEqual(2);
    await page.locator('[data-field="status"]', { hasText: 'succeeded' }).waitFor();
    await page.locator('ol.timeline li[data-entry-type="status"]', { hasText: 'succeeded' }).waitFor();
    expect(await page.locator('ol.timeline li[data-entry-type="progress"]').count()).toBeGreaterThan(0);

    // A pasted or reloaded address opens the same job.
    await page.reload();
    await page.locator('[data-field="status"]', { hasText: 'succeeded' }).waitFor();
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    tab.expectNoErrors();
  });

  it('shows an image-resize result as the image, fetched with the API', async () => {
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3b5bdb' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('width', '32');
    form.append('height', '24');
    form.append('file', new Blob([new Uint8Array(image)]), 'square.png');
    const response = await fetch(`http://127.0.0.1:${port}/v1/images`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    const { id } = Job.parse(await response.json());

    const { page } = tab;
    await tab.open(port, `/ui/jobs/${id}`);
    await page.locator('[data-field="status"]', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
    const shown = page.locator('img.result-image');
    await shown.waitFor();
    // The tests' TypeScript has no DOM types: the browser-side code goes as a string.
    const width = () => page.evaluate("document.querySelector('img.result-image').naturalWidth");
    await waitFor('the image decoded at its new size', async () => {
      const decoded = await width();
      return decoded === 32 ? true : undefined;
    });
    await tab.screenshot('job-image');
    tab.expectNoErrors();
  });
});
