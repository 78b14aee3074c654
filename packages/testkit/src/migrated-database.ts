import { createDatabase, migrateToLatest, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import {
  createIsolatedEnv,
  TEST_DATABASE_URL,
  type IsolatedEnv,
  type IsolatedEnvOptions,
} from './isolation.js';

export interface MigratedDatabaseOptions extends IsolatedEnvOptions {
  /** The pool's size; 4 unless told. */
  poolMax?: number;
}

export interface MigratedDatabase {
  isolated: IsolatedEnv;
  /** A pool on the isolated schema, migrated to the latest version. */
  database: DatabaseHandle;
  /** Closes the pool, then drops the schema and the broker names. */
  dispose(): Promise<void>;
}

/** A test file's own schema with every migration applied, and a pool on it. */
export async function migratedDatabase(
  label: string,
  { poolMax = 4, jobKinds }: MigratedDatabaseOptions = {},
): Promise<MigratedDatabase> {
  const isolated = await createIsolatedEnv(label, { jobKinds });
  const database = createDatabase({
    url: TEST_DATABASE_URL,
    schema: isolated.schema,
    poolMax,
    log: silentLogger(),
  });
  const dispose = async () => {
    await database.close();
    await isolated.dispose();
  };
  try {
    await migrateToLatest(database.db, isolated.schema, silentLogger());
  } catch (error) {
    await dispose();
    throw error;
  }
  return { isolated, database, dispose };
}
