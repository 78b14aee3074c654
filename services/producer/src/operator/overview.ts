import type { Overview } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { readBacklogs, type JobStore } from '@conveyor/jobs';

/** Every client's job counts and the backlogs; what GET /v1/overview and the live stream send. */
export async function readOverview(db: Kysely<Database>, store: JobStore): Promise<Overview> {
  const [jobs, backlogs] = await Promise.all([store.stats(undefined), readBacklogs(db)]);
  return { jobs, ...backlogs };
}
