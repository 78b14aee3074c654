import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createIsolatedEnv, TEST_DATABASE_URL, type IsolatedEnv } from '@conveyor/testkit';
import pg from 'pg';

/** The `migrate` command as a release (the Kubernetes migrations Job) runs it: the built CLI. */
describe('migrate', () => {
  let isolated: IsolatedEnv;
  const cli = join(__dirname, '../../dist/cli/migrate.js');
  const migrate = (env: Record<string, string>) =>
    spawnSync(process.execPath, [cli], {
      env: { PATH: process.env.PATH ?? '', ...env, LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 30_000,
    });

  beforeAll(async () => {
    isolated = await createIsolatedEnv('migratecli');
  });

  afterAll(async () => {
    await isolated.dispose();
  });

  it('brings a schema to the latest version and exits 0, again as a no-op', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: isolated.schema };
    const first = migrate(env);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/schema at the latest version/);
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`select count(*)::int as n from "${isolated.schema}".kysely_migration`);
      expect(rows[0].n).toBeGreaterThan(10);
      const again = migrate(env);
      expect(again.status).toBe(0);
      expect(again.stdout).not.toMatch(/migration applied/);
      expect(
        (await db.query(`select count(*)::int as n from "${isolated.schema}".kysely_migration`)).rows[0].n,
      ).toBe(rows[0].n);
    } finally {
      await db.end();
    }
  });

  it('exits 1 and says why when the database cannot be reached', () => {
    const failed = migrate({
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      DATABASE_SCHEMA: isolated.schema,
    });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^migrate: .*ECONNREFUSED/m);
  });
});
