import type { JobRetryPolicy } from '@conveyor/contracts';
import { sql, type Database, type JobKindsTable, type Kysely, type Selectable } from '@conveyor/database';
import { AppError } from '@conveyor/platform';
import { z } from 'zod';

/** What a worker host declares about a kind it serves; the registry keeps the latest version. */
export interface JobKindRegistration {
  kind: string;
  version: number;
  inputSchema: object;
  resultSchema: object | null;
  /** Hash of version + schemas, so "same version, other schema" is one comparison. */
  schemaHash: string;
  concurrency: number;
  timeoutMs: number | null;
  retry: JobRetryPolicy;
  isolation: 'inline' | 'thread';
}

export interface RegisteredJobKind extends JobKindRegistration {
  registeredAt: Date;
  updatedAt: Date;
}

/**
 * The job kinds worker hosts have registered. Registration is idempotent for the same version
 * and schema; a different schema under a version already registered is refused (jobs already
 * accepted were validated against the old one), and so is an older version than the registered one
 * (a stale host must not roll the contract back).
 */
export class JobKindRegistry {
  constructor(private readonly db: Kysely<Database>) {}

  async register(registration: JobKindRegistration): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Serializes hosts registering the same kind at once: the second sees the first's row.
      await sql`select pg_advisory_xact_lock(hashtext(${`conveyor-kind:${registration.kind}`}))`.execute(trx);
      const existing = await trx
        .selectFrom('job_kinds')
        .select(['version', 'schema_hash'])
        .where('kind', '=', registration.kind)
        .executeTakeFirst();
      if (existing && existing.version > registration.version) {
        throw new AppError(
          'kind_version_older',
          `job kind "${registration.kind}" is registered at version ${existing.version}; this worker brings version ${registration.version}: deploy the newer module`,
          { status: 409 },
        );
      }
      if (
        existing &&
        existing.version === registration.version &&
        existing.schema_hash !== registration.schemaHash
      ) {
        throw new AppError(
          'kind_schema_conflict',
          `job kind "${registration.kind}" version ${registration.version} is already registered with a different input or result schema: give the changed schema a new version`,
          { status: 409 },
        );
      }
      const row = {
        version: registration.version,
        input_schema: JSON.stringify(registration.inputSchema),
        result_schema: registration.resultSchema === null ? null : JSON.stringify(registration.resultSchema),
        schema_hash: registration.schemaHash,
        concurrency: registration.concurrency,
        timeout_ms: registration.timeoutMs,
        retry: JSON.stringify(registration.retry),
        isolation: registration.isolation,
      };
      await trx
        .insertInto('job_kinds')
        .values({ kind: registration.kind, ...row })
        .onConflict((conflict) => conflict.column('kind').doUpdateSet({ ...row, updated_at: sql`now()` }))
        .execute();
    });
  }

  async find(kind: string): Promise<RegisteredJobKind | undefined> {
    const row = await this.db.selectFrom('job_kinds').selectAll().where('kind', '=', kind).executeTakeFirst();
    return row === undefined ? undefined : toRegisteredKind(row);
  }

  async list(): Promise<RegisteredJobKind[]> {
    const rows = await this.db.selectFrom('job_kinds').selectAll().orderBy('kind').execute();
    return rows.map(toRegisteredKind);
  }
}

/** Parsed on the way out of the database, like any other boundary. */
const StoredRetryPolicy = z.object({
  maxAttempts: z.number().int().positive(),
  backoff: z.discriminatedUnion('type', [
    z.object({
      type: z.enum(['fixed', 'exponential']),
      delayMs: z.number().nonnegative(),
      maxDelayMs: z.number().nonnegative(),
    }),
    z.object({ type: z.literal('tiers'), delaysMs: z.array(z.number().nonnegative()).min(1) }),
  ]),
});
const StoredSchema = z.record(z.string(), z.unknown());

function toRegisteredKind(row: Selectable<JobKindsTable>): RegisteredJobKind {
  return {
    kind: row.kind,
    version: row.version,
    inputSchema: StoredSchema.parse(row.input_schema),
    resultSchema: row.result_schema === null ? null : StoredSchema.parse(row.result_schema),
    schemaHash: row.schema_hash,
    concurrency: row.concurrency,
    timeoutMs: row.timeout_ms,
    retry: StoredRetryPolicy.parse(row.retry),
    isolation: row.isolation === 'thread' ? 'thread' : 'inline',
    registeredAt: row.registered_at,
    updatedAt: row.updated_at,
  };
}
