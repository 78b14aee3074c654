import type { DatabaseHandle } from '@conveyor/database';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import { JobKindRegistry, type JobKindRegistration } from './job-kind-registry.js';
import { WorkerHostRegistry } from './worker-host-registry.js';

describe('JobKindRegistry', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  let registry: JobKindRegistry;

  beforeAll(async () => {
    migrated = await migratedDatabase('kinds');
    database = migrated.database;
    registry = new JobKindRegistry(database.db);
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  const lomo = (changes: Partial<JobKindRegistration> = {}): JobKindRegistration => ({
    kind: 'lomo',
    version: 1,
    inputSchema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
    resultSchema: null,
    schemaHash: 'hash-1',
    concurrency: 2,
    timeoutMs: 60_000,
    retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1_000 } },
    isolation: 'thread',
    ...changes,
  });

  it('registers a kind and reads it back as registered', async () => {
    await registry.register(lomo());
    expect(await registry.find('lomo')).toMatchObject({ ...lomo(), registeredAt: expect.any(Date) });
    expect((await registry.list()).map((k) => k.kind)).toEqual(['lomo']);
    expect(await registry.find('nope')).toBeUndefined();
  });

  it('takes the same registration again (a second host of the kind), at once from two hosts too', async () => {
    await Promise.all([
      registry.register(lomo({ concurrency: 4 })),
      registry.register(lomo({ concurrency: 4 })),
    ]);
    expect((await registry.find('lomo'))?.concurrency).toBe(4);
  });

  it('refuses another schema under the same version, and an older version', async () => {
    await expect(registry.register(lomo({ schemaHash: 'hash-2' }))).rejects.toMatchObject({
      code: 'kind_schema_conflict',
    });
    await registry.register(lomo({ version: 2, schemaHash: 'hash-2' }));
    await expect(registry.register(lomo())).rejects.toMatchObject({ code: 'kind_version_older' });
    expect(await registry.find('lomo')).toMatchObject({ version: 2, schemaHash: 'hash-2' });
  });
});

describe('WorkerHostRegistry', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;

  beforeAll(async () => {
    migrated = await migratedDatabase('hosts', { poolMax: 2 });
    database = migrated.database;
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  it('lists hosts by the age of their heartbeat and forgets a stopped one', async () => {
    const hosts = new WorkerHostRegistry(database.db);
    await hosts.heartbeat({ id: 'w1', hostname: 'a', pid: 1, kinds: ['lomo'], inFlight: 0 });
    await hosts.heartbeat({ id: 'w1', hostname: 'a', pid: 1, kinds: ['lomo'], inFlight: 3 });
    expect(await hosts.alive(10_000)).toEqual([
      expect.objectContaining({ id: 'w1', kinds: ['lomo'], inFlight: 3 }),
    ]);
    expect(await hosts.alive(0)).toEqual([]);
    await hosts.remove('w1');
    expect(await hosts.alive(10_000)).toEqual([]);
  });
});
