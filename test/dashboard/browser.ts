import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { dashboardBuildDir } from '../../services/producer/src/ui/ui.routes.js';

/** Debian's chromium; CHROMIUM_PATH points elsewhere. `.ci/run` installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where each run leaves a screenshot of every page (gitignored). */
const SCREENSHOTS = resolve(__dirname, '../../test-output/screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-quic',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A headless Chromium with a profile of its own, and pages that record every console error and
 * uncaught page error: a dashboard page that logs one fails its test, unless the test expected
 * that very error (a refused key answers 403, and Chromium logs the failed request).
 */
export class Browser {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<Browser> {
    // jest runs the services from their sources, but the dashboard only exists once built.
    if (!existsSync(join(dashboardBuildDir(), 'index.html')))
      throw new Error('the dashboard is not built: run ./scripts/pnpm build (pnpm test does it first)');
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
    const profile = await mkdtemp(join(tmpdir(), 'conveyor-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(15_000);
    return new Browser(context, profile);
  }

  async newPage(): Promise<WatchedPage> {
    return new WatchedPage(await this.context.newPage());
  }

  async close(): Promise<void> {
    await this.context.close();
    await rm(this.profile, { recursive: true, force: true });
  }
}

export class WatchedPage {
  private readonly errors: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const { url, lineNumber } = message.location();
      this.errors.push(`console: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
    });
    page.on('pageerror', (error) => this.errors.push(`page error: ${error.message}`));
  }

  /** Opens a dashboard path (`/ui/jobs`) on the producer and waits for the app to render. */
  async open(port: number, path: string): Promise<void> {
    await this.page.goto(`http://127.0.0.1:${port}${path}`);
    await this.page.locator('main h1').first().waitFor();
  }

  /** Removes the errors a test provoked on purpose; what remains fails `expectNoErrors`. */
  expectErrors(pattern: RegExp): void {
    const expected = this.errors.filter((error) => pattern.test(error));
    if (expected.length === 0) throw new Error(`expected an error matching ${pattern}, got ${this.errors}`);
    this.errors.splice(0, this.errors.length, ...this.errors.filter((error) => !pattern.test(error)));
  }

  expectNoErrors(): void {
    expect(this.errors).toEqual([]);
  }

  async screenshot(name: string): Promise<void> {
    await mkdir(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}
