import { silentLogger } from '@conveyor/platform';
import { createIsolatedEnv, TEST_DATABASE_URL, type IsolatedEnv } from '@conveyor/testkit';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest, type DatabaseHandle } from './database.js';
import { migrations } from './migrations/index.js';

describe('migrations', () => {
  let isolated: IsolatedEnv;
  const handles: DatabaseHandle[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('migrate');
  });

  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await isolated.dispose();
  });

  it('are applied exactly once when several replicas start at the same moment', async () => {
    const log = silentLogger();
    for (let i = 0; i < 5; i++)
      handles.push(createDatabase({ url: TEST_DATABASE_URL, schema: isolated.schema, poolMax: 2, log }));
    await Promise.all(handles.map((h) => migrateToLatest(h.db, isolated.schema, log)));

    const db = handles[0]!.db;
    const { rows } = await sql<{
      name: string;
    }>`select name from ${sql.table(`${isolated.schema}.kysely_migration`)} order by name`.execute(db);
    // Every migration once, in the order of their names (which is the order they run in).
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
    expect(Object.keys(migrations)).toEqual(Object.keys(migrations).sort());
    const { rows: indexes } = await sql<{
      indexname: string;
    }>`select indexname from pg_indexes where schemaname = ${isolated.schema} and tablename = 'objects'`.execute(
      db,
    );
    expect(indexes.map((i) => i.indexname).sort()).toEqual(['objects_last_seen_idx', 'objects_pkey']);
    // Running again is a no-op.
    await migrateToLatest(db, isolated.schema, log);
  });

  it('reports an unreachable database as not ready instead of throwing', async () => {
    const handle = createDatabase({
      url: 'postgres://postgres@127.0.0.1:1/postgres',
      schema: 'x',
      poolMax: 1,
      connectTimeoutMs: 500,
      log: silentLogger(),
    });
    handles.push(handle);
    expect(await handle.ping()).toBe(false);
  });
});
