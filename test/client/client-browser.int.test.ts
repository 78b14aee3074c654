import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { consumerApp, createIsolatedEnv, producerApp, type IsolatedEnv } from '../harness.js';
import { Browser, type WatchedPage } from '../dashboard/browser.js';

/** The client as published: its built ESM files, imported by a page with no bundler. */
const CLIENT_DIST = resolve(__dirname, '../../packages/client/dist');
/** Where the page imports the client from (a variable: the browser resolves it, not TypeScript). */
const CLIENT_MODULE = '/client/index.js';

/**
 * `@conveyor/client` in a real browser (headless Chromium): a page served from another origin
 * imports the built client, submits a job to the producer across origins (CORS_ALLOWED_ORIGINS)
 * and waits for it over the live stream, and verifies a webhook signed by the independent
 * `standardwebhooks` package with Web Crypto; a page from an origin not allowed cannot call.
 */
describe('@conveyor/client in a browser', () => {
  let isolated: IsolatedEnv;
  let browser: Browser;
  let page: WatchedPage;
  const servers: http.Server[] = [];
  const apps: { stop(): Promise<void> }[] = [];
  let api: string;
  let allowedPage: string;
  let otherPage: string;

  /** A static server: `/` is a blank page, `/client/…` the client's built files. */
  const servePage = async () => {
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/')
        return void res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><title>client</title><link rel="icon" href="data:,">');
      const file = normalize(join(CLIENT_DIST, path.replace(/^\/client\//, '')));
      if (!path.startsWith('/client/') || !file.startsWith(CLIENT_DIST)) return void res.writeHead(404).end();
      readFile(file).then(
        (content) =>
          res
            .writeHead(200, {
              'content-type': extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream',
            })
            .end(content),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    isolated = await createIsolatedEnv('clientbrowser');
    allowedPage = await servePage();
    otherPage = await servePage();
    const producer = producerApp({ ...isolated.env, CORS_ALLOWED_ORIGINS: allowedPage });
    await producer.start();
    apps.push(producer);
    api = `http://127.0.0.1:${producer.port}`;
    const consumer = consumerApp({ ...isolated.env, BUILT_IN_KINDS: 'factorize' });
    await consumer.start();
    apps.push(consumer);
    browser = await Browser.launch();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    for (const app of apps.reverse()) await app.stop();
    for (const server of servers) server.close();
    await isolated.dispose();
  });

  /**
   * Runs `body` in the page as a module would (the client imported as `client`), with `args` in
   * scope. A string, not a function: the test's compiler would rewrite a function's `import()`.
   */
  const inPage = <T>(target: WatchedPage, args: Record<string, unknown>, body: string): Promise<T> =>
    target.page.evaluate(
      `(async () => { const client = await import(${JSON.stringify(CLIENT_MODULE)}); const args = ${JSON.stringify(args)}; ${body} })()`,
    ) as Promise<T>;

  it('submits a job from another origin and waits for it', async () => {
    await page.page.goto(allowedPage);
    const outcome = await inPage(
      page,
      { baseUrl: api },
      `const conveyor = new client.ConveyorClient({ baseUrl: args.baseUrl });
       const job = await conveyor.submit('factorize', { number: '15' }, { idempotencyKey: 'from-the-browser' });
       const again = await conveyor.submit('factorize', { number: '15' }, { idempotencyKey: 'from-the-browser' });
       const done = await conveyor.wait(job.id);
       return { same: again.id === job.id, status: done.status, factors: done.result.factors };`,
    );
    expect(outcome).toEqual({ same: true, status: 'succeeded', factors: ['3', '5'] });
    page.expectNoErrors();
  });

  it('verifies a webhook signed by the standardwebhooks package, and refuses a tampered one', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const id = 'msg_browser_1';
    const sentAt = new Date();
    const body = JSON.stringify({ type: 'job.succeeded', data: { jobId: 'x', status: 'succeeded' } });
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, sentAt, body),
    };
    await page.page.goto(allowedPage);
    const verdicts = await inPage<{ genuine: string; tampered: string }>(
      page,
      { body, headers, secret },
      `const verdict = (promise) => promise.then(() => 'valid', (error) => error.code ?? 'error');
       return {
         genuine: await verdict(client.verifyWebhook(args.body, args.headers, args.secret)),
         tampered: await verdict(client.verifyWebhook(args.body.replace('succeeded', 'failed'), args.headers, args.secret)),
       };`,
    );
    expect(verdicts.genuine).toBe('valid');
    expect(verdicts.tampered).not.toBe('valid');
    page.expectNoErrors();
  });

  it('cannot call from an origin the producer does not allow', async () => {
    const blocked = await browser.newPage();
    try {
      await blocked.page.goto(otherPage);
      const failure = await inPage<string>(
        blocked,
        { baseUrl: api },
        `return new client.ConveyorClient({ baseUrl: args.baseUrl }).stats().then(() => 'answered', (error) => error.name);`,
      );
      expect(failure).toBe('ConveyorNetworkError');
      // Chromium reports the refused cross-origin request on the console: that is the point.
      blocked.expectErrors(/CORS|Access-Control-Allow-Origin|Failed to fetch|ERR_FAILED/);
      blocked.expectNoErrors();
    } finally {
      await blocked.close();
    }
  });
});
