import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AppError, type Logger } from '@conveyor/platform';
import express from 'express';

/** Where the dashboard is served; its own router expects the same base (packages/dashboard). */
const UI_PATH = '/ui';
/** Asset names carry a content hash, so a browser may keep them for good. */
const ASSET_MAX_AGE = '365d';
/**
 * Everything the dashboard loads comes from this origin (no CDN, no web fonts); images of
 * results are shown from blob: URLs, uPlot sets inline styles.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The built dashboard (`pnpm build` writes it): packages/dashboard/dist/ui, found as a dependency. */
export function dashboardBuildDir(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@conveyor/dashboard/package.json');
  return join(dirname(manifest), 'dist', 'ui');
}

export interface UiRoutesDeps {
  /** The folder holding index.html and assets/. */
  dir: string;
  log: Logger;
}

/**
 * The dashboard at /ui: hashed assets cached for a year, and index.html (never cached) for
 * /ui and every path below it, so `/ui/jobs/{id}` survives a reload or a paste into a ticket.
 * The build is looked for on each page request, so building after the producer started works.
 */
export function uiRouter({ dir, log }: UiRoutesDeps): express.Router {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile))
    log.warn('dashboard not built: /ui answers 503 until `pnpm build` has run', { dir });

  const router = express.Router();
  router.use(
    `${UI_PATH}/assets`,
    express.static(join(dir, 'assets'), { index: false, immutable: true, maxAge: ASSET_MAX_AGE }),
    // A missing asset is a 404, never index.html: a script tag must not receive a page.
    (req) => {
      throw new AppError('not_found', `no dashboard asset at ${req.originalUrl}`, { status: 404 });
    },
  );
  router.get([UI_PATH, `${UI_PATH}/*path`], (_req, res) => {
    if (!existsSync(indexFile))
      throw new AppError(
        'dashboard_not_built',
        `the dashboard is not built (no ${indexFile}): run \`./scripts/pnpm build\``,
        { status: 503 },
      );
    res.set('cache-control', 'no-cache');
    res.set('content-security-policy', CONTENT_SECURITY_POLICY);
    res.sendFile(indexFile);
  });
  return router;
}
