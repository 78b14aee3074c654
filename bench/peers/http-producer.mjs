// The HTTP shape the peers are measured through, the same as Conveyor's producer: express with
// express.json(), `POST /v1/jobs` {"kind":"noop","input":{}}, 202 {"id"} once the peer has durably
// accepted the job, `GET /readyz`. Express is the producer service's own copy (its version and
// settings: no x-powered-by, no etag), so the HTTP layer costs the same on both sides of the comparison.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Not bench/lib/deps.mjs: that loads the bench's own clients (pg, amqplib), which a peer never uses.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const express = createRequire(resolve(ROOT, 'services/producer/package.json'))('express');

const isPlainObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Serves the peer's producer on PORT: `enqueue()` resolves with the id of a job the peer has
 * durably accepted. On SIGTERM the server stops accepting, then `close()` ends the peer's client.
 * Prints `ready` once listening (the bench waits for that line).
 */
export async function serveProducer({ enqueue, close }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/readyz', (_req, res) => res.status(200).json({ status: 'ready' }));
  app.use(express.json({ limit: '1mb', type: 'application/json' }));
  app.post('/v1/jobs', async (req, res) => {
    const { kind, input } = req.body ?? {};
    if (kind !== 'noop' || !isPlainObject(input)) {
      res
        .status(422)
        .json({ error: { code: 'invalid_input', message: 'expected {"kind":"noop","input":{}}' } });
      return;
    }
    try {
      res.status(202).json({ id: await enqueue() });
    } catch (error) {
      console.error(`enqueue failed: ${error.message}`);
      res.status(503).json({ error: { code: 'unavailable', message: 'the job was not accepted' } });
    }
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1');
  await once(server, 'listening');
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    close().then(
      () => process.exit(0),
      (error) => {
        console.error(`close failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
  console.log('ready');
}
