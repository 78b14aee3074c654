import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import { producerApp } from '../harness.js';
import { Browser, type WatchedPage } from './browser.js';

/**
 * With auth on, the dashboard asks for an operator key, keeps it for the tab and sends it as a
 * Bearer token (the live stream too, read with fetch); a client key is refused with the API's
 * own message, and a key revoked or refused later sends the user back to the key page.
 */
describe('dashboard with auth on', () => {
  let migrated: MigratedDatabase;
  let producer: ReturnType<typeof producerApp>;
  let browser: Browser;
  let port: number;
  let operatorKey: string;
  let clientKey: string;
  let tab: WatchedPage;

  beforeAll(async () => {
    migrated = await migratedDatabase('dashauth', { poolMax: 1 });
    producer = producerApp({ ...migrated.isolated.env, AUTH_ENABLED: 'true' });
    await producer.start();
    port = producer.port;
    operatorKey = (await createApiClient(migrated.database.db, 'ops', 'operator')).apiKey;
    clientKey = (await createApiClient(migrated.database.db, 'shop')).apiKey;
    browser = await Browser.launch();
    tab = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.stop();
    await migrated?.dispose();
  });

  it('asks for a key, refuses a client key with the API message, and keeps an operator key for the tab', async () => {
    const { page } = tab;
    await page.goto(`http://127.0.0.1:${port}/ui/queues`);
    await page.waitForURL(/\/ui\/key\?next=%2Fqueues$/);
    await page.locator('main h1', { hasText: 'Operator key' }).waitFor();
    await page.getByRole('alert').first().waitFor();
    await tab.screenshot('key');
    tab.expectErrors(/status of 401/);

    await page.getByLabel('Key').fill(clientKey);
    await page.getByRole('button', { name: 'Use this key' }).click();
    const refusal = page.locator('main [role="alert"]', { hasText: /operator/i });
    await refusal.waitFor();
    expect(await page.evaluate("sessionStorage.getItem('conveyor.operatorKey')")).toBeNull();
    tab.expectErrors(/status of 403/);

    await page.getByLabel('Key').fill(operatorKey);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.waitForURL(/\/ui\/queues$/);
    await page.locator('table[aria-label="Queues"]').waitFor();

    // The key lives in this tab: a reload and other pages use it, the live overview included.
    await page.reload();
    await page.locator('table[aria-label="Queues"]').waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('.tile').first().waitFor();
    tab.expectNoErrors();
  });

  it('sends the user back to the key page with the API message when the key is refused later', async () => {
    const { page } = tab;
    // The tests' TypeScript has no DOM types: the browser-side code goes as a string.
    await page.evaluate(`sessionStorage.setItem('conveyor.operatorKey', ${JSON.stringify(clientKey)})`);
    await page.goto(`http://127.0.0.1:${port}/ui/workers`);
    await page.waitForURL(/\/ui\/key\?next=%2Fworkers$/);
    await page.locator('main [role="alert"]', { hasText: /operator/i }).waitFor();
    tab.expectErrors(/status of 403/);
    tab.expectNoErrors();
  });
});
