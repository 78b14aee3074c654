import { silentLogger } from '@conveyor/platform';
import { createIsolatedEnv, TEST_DATABASE_URL, type IsolatedEnv } from '@conveyor/testkit';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest, type DatabaseHandle } from './database.js';

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
    expect(rows.map((r) => r.name)).toEqual([
      '20261123_1200_objects',
      '20261123_1210_outbox',
      '20261123_1300_jobs',
      '20261123_1400_job_expiry',
      '20261123_1500_webhooks',
      '20261123_1610_webhook_record_events',
      '20261123_1620_webhook_plans',
      '20261123_1630_webhook_record_events_plan',
      '20261207_0200_webhook_claim_indexes',
      '20261207_1800_api_client_revocation',
      '20261207_1900_job_kinds',
      '20261207_2200_job_dispatch',
    ]);
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
