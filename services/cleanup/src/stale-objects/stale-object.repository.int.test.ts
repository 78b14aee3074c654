import { sql, type DatabaseHandle } from '@conveyor/database';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import { untilExhausted } from '../periodic-routine.js';
import { deleteStaleObjects } from './stale-object.repository.js';

describe('stale object cleanup', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;

  beforeAll(async () => {
    migrated = await migratedDatabase('cleanup');
    database = migrated.database;
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  it('deletes only objects older than the TTL, in bounded batches, from several replicas at once', async () => {
    // 25,000 stale rows and 5,000 fresh ones.
    await sql`insert into objects (id, last_seen) select g, now() - interval '1 hour' from generate_series(1, 25000) g`.execute(
      database.db,
    );
    await sql`insert into objects (id, last_seen) select g, now() from generate_series(25001, 30000) g`.execute(
      database.db,
    );

    const routine = (n: number) =>
      untilExhausted(() => deleteStaleObjects(database.db, 30_000, 4_000), 4_000).then((d) => [n, d]);
    const results = await Promise.all([routine(1), routine(2), routine(3)]);
    expect(results.reduce((sum, [, d]) => sum + d!, 0)).toBe(25_000);

    const { rows } = await sql<{
      n: number;
      min: string;
    }>`select count(*)::int as n, min(id)::text as min from objects`.execute(database.db);
    expect(rows[0]).toEqual({ n: 5_000, min: '25001' });
    expect(await deleteStaleObjects(database.db, 30_000, 4_000)).toBe(0);
  });

  it('uses the last_seen index rather than scanning the table', async () => {
    await sql`analyze objects`.execute(database.db);
    const { rows } = await sql<{
      'QUERY PLAN': string;
    }>`explain select id from objects where last_seen < now() - interval '30 seconds' limit 10000`.execute(
      database.db,
    );
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/objects_last_seen_idx/);
  });
});
