import { createDatabase, migrateToLatest, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { createIsolatedEnv, TEST_DATABASE_URL, type IsolatedEnv } from '@conveyor/testkit';
import { upsertLastSeen } from './object.repository.js';
import { LastSeenWriter } from './last-seen.writer.js';

describe('last_seen upserts', () => {
  let isolated: IsolatedEnv;
  let database: DatabaseHandle;
  const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s));

  beforeAll(async () => {
    isolated = await createIsolatedEnv('lastseen');
    database = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 4,
      log: silentLogger(),
    });
    await migrateToLatest(database.db, isolated.schema, silentLogger());
  });

  afterAll(async () => {
    await database.close();
    await isolated.dispose();
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
