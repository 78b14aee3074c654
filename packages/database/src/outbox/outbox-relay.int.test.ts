import { silentLogger } from '@conveyor/platform';
import { migratedDatabase, waitFor, type MigratedDatabase } from '@conveyor/testkit';
import type { DatabaseHandle } from '../database.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import { insertOutboxMessages, type OutboxMessage } from './outbox.repository.js';

/** sendNow: resolves once the publishes are confirmed; the rows are deleted afterwards, in batches. */
describe('OutboxRelay.sendNow', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    migrated = await migratedDatabase('outboxrelay');
    database = migrated.database;
  });

  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await migrated.dispose();
  });

  function relayWith(
    publish: (m: OutboxMessage) => Promise<void>,
    options: Partial<OutboxRelayOptions> = {},
  ): OutboxRelay {
    const relay = new OutboxRelay(
      { db: database.db, publish, isReady: () => true, log: silentLogger() },
      { pollMs: 60_000, batchSize: 100, ...options },
    );
    relays.push(relay);
    return relay;
  }

  const insert = (count: number) =>
    insertOutboxMessages(
      database.db,
      Array.from({ length: count }, (_, i) => ({
        exchange: 'x',
        routingKey: 'k',
        messageId: `m${i}`,
        correlationId: 'c',
        type: 't',
        body: Buffer.from(`{"i":${i}}`),
      })),
    );
  const remaining = async (messages: OutboxMessage[]) =>
    (
      await database.db
        .selectFrom('outbox')
        .select('id')
        .where(
          'id',
          'in',
          messages.map((m) => m.id),
        )
        .execute()
    ).map((r) => r.id);

  it('resolves after every publish has settled and deletes only the confirmed rows, soon after', async () => {
    const confirmed: string[] = [];
    const relay = relayWith(async (m) => {
      await new Promise((r) => setTimeout(r, 20));
      if (m.messageId === 'm1') throw new Error('refused');
      confirmed.push(m.id);
    });
    const messages = await insert(3);
    await relay.sendNow(messages);
    expect(confirmed.sort()).toEqual([messages[0]!.id, messages[2]!.id].sort());
    await waitFor('confirmed rows deleted', async () => (await remaining(messages)).length === 1, {
      timeoutMs: 2_000,
    });
    expect(await remaining(messages)).toEqual([messages[1]!.id]);
  });

  it('collects the ids of many calls into one delete, and deletes at once when the batch is full', async () => {
    const relay = relayWith(() => Promise.resolve(), { deleteBatchWaitMs: 60_000, deleteBatchSize: 4 });
    const messages = await insert(6);
    for (const m of messages.slice(0, 3)) await relay.sendNow([m]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await remaining(messages)).toHaveLength(6); // waiting for more
    await relay.sendNow(messages.slice(3, 4));
    await waitFor('full batch deleted', async () => (await remaining(messages)).length === 2, {
      timeoutMs: 2_000,
    });
    await relay.sendNow(messages.slice(4));
    await relay.stop(); // deletes what is pending
    expect(await remaining(messages)).toEqual([]);
  });
});
