import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobEvent } from '@conveyor/contracts';
import { sql, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { migratedDatabase, waitFor, type MigratedDatabase } from '@conveyor/testkit';
import {
  AddressPolicy,
  WebhookDeliveryStore,
  generateWebhookSecret,
  WebhookSecretStore,
} from '@conveyor/webhooks';
import { CircuitBreakers } from '../endpoint-health/circuit-breaker.js';
import { EndpointLimiter } from '../endpoint-health/endpoint-limiter.js';
import { Dispatcher } from './dispatcher.js';

const CONCURRENCY = 2;
const TIMEOUT_MS = 2_000;

/** Deliveries handed over leased are sent at once, or queued for a slot; never more than the concurrency at a time. */
describe('Dispatcher', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  let store: WebhookDeliveryStore;
  let server: http.Server;
  let url: string;
  const received: { id: string; sequence: number }[] = [];
  let open = 0;
  let maxOpen = 0;

  beforeAll(async () => {
    migrated = await migratedDatabase('dispatcher');
    database = migrated.database;
    store = new WebhookDeliveryStore(database.db);
    server = http.createServer((req, res) => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () =>
        setTimeout(() => {
          received.push({
            id: String(req.headers['webhook-id']),
            sequence: (JSON.parse(body) as { sequence: number }).sequence,
          });
          open -= 1;
          res.writeHead(200).end();
        }, 20),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await migrated.dispose();
  });

  const dispatcher = () =>
    new Dispatcher(
      {
        deliveries: store,
        secrets: new WebhookSecretStore(database.db, generateWebhookSecret()),
        policy: new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] }),
        breakers: new CircuitBreakers({ failureThreshold: 5, coolDownMs: 1_000, now: Date.now }),
        limiter: new EndpointLimiter(CONCURRENCY),
        log: silentLogger(),
      },
      { concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, retryScheduleMs: [200], pollMs: 50 },
    );

  async function record(count: number, target: Dispatcher, leasedSince = Date.now()) {
    const items = [];
    for (let i = 0; i < count; i++) {
      const jobId = randomUUID();
      await sql`insert into jobs (id, client_id, kind, request_hash, input, status, callback_url) values (${jobId}, 'default', 'factorize', 'h', '{"number":"6"}'::jsonb, 'running', ${url})`.execute(
        database.db,
      );
      const event: JobEvent & { callbackUrl: string } = {
        eventId: randomUUID(),
        jobId,
        clientId: 'default',
        kind: 'factorize',
        customId: null,
        status: 'running',
        sequence: 1,
        progress: { fraction: 0, message: null },
        result: null,
        error: null,
        callbackUrl: url,
        occurredAt: new Date().toISOString(),
      };
      items.push({ event, payload: JSON.stringify({ sequence: i }) });
    }
    const places = target.reserve(count);
    const recorded = await store.recordEvents(items, { leaseUpTo: places, leaseMs: target.leaseMs });
    target.handOver(places, recorded, leasedSince);
    return { places, recorded };
  }

  const statusesOf = async (ids: string[]) =>
    (
      await database.db
        .selectFrom('webhook_deliveries')
        .select(['status', 'attempts'])
        .where('id', 'in', ids)
        .execute()
    ).map((r) => `${r.status}/${r.attempts}`);

  it('queues leased deliveries beyond its concurrency and sends each once, never more than the concurrency at a time', async () => {
    received.length = 0;
    const target = dispatcher();
    // Slots plus as many queue places; the rest is recorded pending.
    const { places, recorded } = await record(6, target);
    expect(places).toBe(2 * CONCURRENCY);
    expect(recorded.leased).toHaveLength(2 * CONCURRENCY);
    expect(recorded.waitingJobIds).toHaveLength(2);
    await waitFor('the leased ones sent', () => received.length >= 2 * CONCURRENCY);
    expect(maxOpen).toBeLessThanOrEqual(CONCURRENCY);
    expect(received.map((r) => r.id).sort()).toEqual(recorded.leased.map((d) => d.id).sort());
    await waitFor('logged', async () =>
      (await statusesOf(recorded.leased.map((d) => d.id))).every((s) => s === 'delivered/1'),
    );

    // The pending two wait for a claim: the run loop takes them.
    target.start();
    await waitFor('the pending ones claimed and sent', () => received.length >= 6);
    await target.stop();
    expect(new Set(received.map((r) => r.id)).size).toBe(6);
  });

  it('gives back, unsent, a queued delivery whose lease could end before its attempt would', async () => {
    received.length = 0;
    const target = dispatcher();
    // Leased "long ago": the two that get a slot go; the queued two are past their start-by time.
    const { recorded } = await record(4, target, Date.now() - TIMEOUT_MS - 1_500);
    await waitFor('two sent', () => received.length >= 2);
    const queuedIds = recorded.leased.slice(CONCURRENCY).map((d) => d.id);
    await waitFor('the queued two back to pending, no attempt spent', async () =>
      (await statusesOf(queuedIds)).every((s) => s === 'pending/0'),
    );
    expect(received.map((r) => r.id)).not.toEqual(expect.arrayContaining([queuedIds[0]]));
    await target.stop();
  });
});
