import { randomBytes } from 'node:crypto';
import { silentLogger } from '@conveyor/platform';
import { proxyInFrontOf, TEST_DATABASE_URL, waitFor, type FaultProxy } from '@conveyor/testkit';
import pg from 'pg';
import { NotificationListener } from './notification-listener.js';

/**
 * The listener's connection goes through the test kit's fault proxy, so the test can cut it,
 * or stall it (a half-open connection that never says it is gone), for real.
 */
describe('NotificationListener', () => {
  const channel = `test_listener_${randomBytes(4).toString('hex')}`;
  let proxy: FaultProxy;
  let listener: NotificationListener;
  let sender: pg.Client;
  const received: string[] = [];
  const changes: boolean[] = [];

  beforeAll(async () => {
    const through = await proxyInFrontOf(TEST_DATABASE_URL);
    proxy = through.proxy;
    listener = new NotificationListener({
      url: through.url,
      channel,
      log: silentLogger(),
      onNotification: (payload) => received.push(payload),
      onListeningChange: (listening) => changes.push(listening),
      heartbeatMs: 200,
      timeoutMs: 300,
    });
    sender = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await sender.connect();
    listener.start();
  });

  afterAll(async () => {
    proxy.restore();
    proxy.unstall();
    await listener.stop();
    await sender.end();
    await proxy.stop();
  });

  const notify = (payload: string) => sender.query('select pg_notify($1, $2)', [channel, payload]);

  it('delivers the notifications of its channel once listening', async () => {
    await waitFor('listening', () => listener.listening);
    await notify('one');
    await sender.query(`select pg_notify($1, 'elsewhere')`, [`${channel}_other`]);
    await waitFor('the notification', () => received.includes('one'));
    expect(received).toEqual(['one']);
  });

  it('says at once when its connection is cut, and listens again once it can reconnect', async () => {
    await waitFor('listening', () => listener.listening);
    changes.length = 0;
    proxy.cut();
    await waitFor('not listening', () => !listener.listening);
    await notify('lost'); // sent while nobody listens: never delivered, which is why the change is reported
    proxy.restore();
    await waitFor('listening again', () => listener.listening, { timeoutMs: 10_000 });
    expect(changes).toEqual([false, true]);
    await notify('two');
    await waitFor('the notification after reconnecting', () => received.includes('two'));
    expect(received).not.toContain('lost');
  });

  it('notices a connection that stops answering without closing (the heartbeat), and recovers', async () => {
    await waitFor('listening', () => listener.listening);
    changes.length = 0;
    proxy.stall();
    await waitFor('not listening', () => !listener.listening, { timeoutMs: 5_000 });
    proxy.unstall();
    await waitFor('listening again', () => listener.listening, { timeoutMs: 10_000 });
    expect(changes).toEqual([false, true]);
    await notify('three');
    await waitFor('the notification after the stall', () => received.includes('three'));
  });

  it('stops promptly, even while it cannot connect', async () => {
    const unreachable = new NotificationListener({
      url: 'postgres://postgres@127.0.0.1:1/postgres',
      channel,
      log: silentLogger(),
      onNotification: () => undefined,
      onListeningChange: () => undefined,
    });
    unreachable.start();
    await new Promise((resolve) => setTimeout(resolve, 300)); // into its reconnect backoff
    const started = Date.now();
    await unreachable.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(unreachable.listening).toBe(false);
  });
});
