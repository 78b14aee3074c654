import { createHash } from 'node:crypto';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely';
import pg from 'pg';
import type { Logger } from '@conveyor/platform';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  url: string;
  /** Schema holding every table; tests use one per file. Default `public`. */
  schema: string;
  poolMax: number;
  /** Per-statement limit, so a stuck query fails instead of holding a connection forever. */
  statementTimeoutMs?: number;
  /** How long to wait for a free connection or a TCP connect before failing. */
  connectTimeoutMs?: number;
  log: Logger;
}

/**
 * Starts a statement that runs as a named prepared statement: parsed, analysed (and, once
 * PostgreSQL settles on a generic plan, planned) once per connection instead of at every
 * execution. For hot statements whose text never varies (only their parameters do); for a
 * statement of a few CTEs that is most of a millisecond of server CPU saved per execution.
 */
export const PREPARED_STATEMENT = '/* prepared */';

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** True when a trivial query answers: the readiness check. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createDatabase(options: DatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    options: `-c search_path=${options.schema}`,
    keepAlive: true,
  });
  // A connection that dies emits 'error': on the pool while idle, on the client itself while checked
  // out (between two statements of a transaction, say). Without listeners either crashes the
  // process; the failed query rejects on its own, so logging is all that is left to do.
  pool.on('error', (error) => options.log.warn('idle database connection failed', { error: error.message }));
  pool.on('connect', (client) => {
    client.on('error', (error) => options.log.warn('database connection failed', { error: error.message }));
    prepareMarkedStatements(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/** The name of a prepared statement: its text's hash, so a changed text is a new statement. */
const statementNames = new Map<string, string>();

/**
 * Kysely hands pg the text and the values; a text starting with PREPARED_STATEMENT goes to pg
 * as a named query instead, which pg prepares on first use on this connection and reuses.
 */
function prepareMarkedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: (...args: unknown[]) => unknown }).query = (
    config: unknown,
    values?: unknown,
    callback?: unknown,
  ) => {
    if (typeof config !== 'string' || !config.startsWith(PREPARED_STATEMENT) || typeof values === 'function')
      return query(config, values, callback);
    let name = statementNames.get(config);
    if (name === undefined) {
      name = `s_${createHash('sha1').update(config).digest('hex').slice(0, 24)}`;
      statementNames.set(config, name);
    }
    return query({ name, text: config, values }, callback);
  };
}

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/**
 * Brings the schema to the latest version. Kysely's Postgres adapter serialises migrators with
 * an advisory lock, so replicas starting together apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<Database>, schema: string, log: Logger): Promise<void> {
  // Replicas starting together would race on CREATE SCHEMA (a unique violation in pg_namespace),
  // so it runs under a transaction-scoped advisory lock of its own, before kysely's.
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`conveyor-schema:${schema}`}))`.execute(trx);
    await sql`create schema if not exists ${sql.id(schema)}`.execute(trx);
  });
  const migrator = new Migrator({ db, provider, migrationTableSchema: schema });
  const { error, results } = await migrateRetryingCatalogRaces(migrator);
  for (const result of results ?? []) {
    if (result.status === 'Success') log.info('migration applied', { migration: result.migrationName });
    else if (result.status === 'Error') log.error('migration failed', { migration: result.migrationName });
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** invalid_schema_name: another schema vanished while kysely was listing the database's tables. */
const SCHEMA_VANISHED = '3F000';

/**
 * Kysely checks for its migration tables by listing every table of the database; a schema
 * dropped by someone else at that moment (test suites sharing a database do this all the time)
 * fails the listing. That is not our schema and not our problem: try again, a few times.
 */
async function migrateRetryingCatalogRaces(migrator: Migrator, attempts = 5): Promise<MigrationResultSet> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await migrator.migrateToLatest();
    const code = (outcome.error as { code?: unknown } | undefined)?.code;
    if (code !== SCHEMA_VANISHED || attempt >= attempts) return outcome;
  }
}
