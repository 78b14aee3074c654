import type { DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import { upsertLastSeen } from './object.repository.js';
import { LastSeenWriter } from './last-seen.writer.js';

describe('last_seen upserts', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s));

  beforeAll(async () => {
    migrated = await migratedDatabase('lastseen');
    database = migrated.database;
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  const lastSeenOf = async (id: number) =>
    (
      await database.db
        .selectFrom('objects')
        .select('last_seen')
        .where('id', '=', String(id))
        .executeTakeFirst()
    )?.last_seen;

  it('never moves last_seen backwards on a redelivered or reordered message', async () => {
    await upsertLastSeen(database.db, [{ objectId: 1, lastSeen: t(30) }]);
    await upsertLastSeen(database.db, [{ objectId: 1, lastSeen: t(10) }]); // an older copy arrives late
    expect(await lastSeenOf(1)).toEqual(t(30));
    await upsertLastSeen(database.db, [{ objectId: 1, lastSeen: t(30) }]); // the same copy again
    expect(await lastSeenOf(1)).toEqual(t(30));
    await upsertLastSeen(database.db, [{ objectId: 1, lastSeen: t(45) }]);
    expect(await lastSeenOf(1)).toEqual(t(45));
  });

  it('batches rows for the same object in any order through the writer', async () => {
    const writer = new LastSeenWriter(
      { db: database.db, log: silentLogger() },
      { batchSize: 100, batchWaitMs: 5 },
    );
    const times = [20, 50, 10, 40, 30];
    await Promise.all(times.map((s) => writer.record({ objectId: 2, lastSeen: t(s) })));
    expect(await lastSeenOf(2)).toEqual(t(50));
    const many = Array.from({ length: 1_234 }, (_, i) =>
      writer.record({ objectId: 10_000 + i, lastSeen: t(1) }),
    );
    await Promise.all(many);
    const { count } = await database.db
      .selectFrom('objects')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('id', '>=', '10000')
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(1_234);
    writer.stop();
  });
});
