// Each bench run works in its own corner of the shared broker and database: AMQP prefix
// bench.<random> and schema bench_<random> (or, on request, a database bench_<random>), so it
// neither sees nor disturbs anyone else's names; clean-up deletes them all again.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { amqp, pg, ROOT } from './deps.mjs';
import { stopAllServices } from './services.mjs';

export const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
/** The message kinds that have a work queue `<prefix>.<kind>`. */
const WORK_KINDS = ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'];

/** The broker names the services declare under `prefix` (as packages/contracts topologyNames() derives them). */
export function brokerNames(prefix) {
  const workQueue = (kind) => `${prefix}.${kind}`;
  return {
    workQueue,
    workQueues: WORK_KINDS.map(workQueue),
    deadLetterQueue: `${prefix}.dead-letter`,
    jobEventsQueue: `${prefix}.job-events`,
    retryQueues: RETRY_DELAYS_MS.map((ms) => `${prefix}.retry.${ms}ms`),
    workExchange: `${prefix}.work`,
    eventsExchange: `${prefix}.events`,
    exchanges: ['work', 'retry', 'dlx', 'events'].map((suffix) => `${prefix}.${suffix}`),
  };
}

/**
 * A fresh corner: { runId, prefix, schema, names, databaseUrl, ownDatabase, storageRoot, serviceEnv }.
 * With `ownDatabase`, the services use a database bench_<runId> (which the caller creates, e.g. with
 * settings of its own that must touch nobody else) instead of the shared one. With `storage` (a
 * name, e.g. 'images-bench'), a temporary folder <tmp>/<storage>-<runId>-XXXXXX is made for the
 * services' STORAGE_ROOT; clean-up deletes it, and so does this process's exit (after an error too).
 */
export function isolate({ ownDatabase = false, storage } = {}) {
  const runId = randomBytes(4).toString('hex');
  const prefix = `bench.${runId}`;
  const schema = `bench_${runId}`;
  const database = ownDatabase ? `bench_${runId}` : undefined;
  const databaseUrl = database
    ? Object.assign(new URL(DATABASE_URL), { pathname: `/${database}` }).toString()
    : DATABASE_URL;
  const storageRoot = storage ? mkdtempSync(join(tmpdir(), `${storage}-${runId}-`)) : undefined;
  if (storageRoot) process.on('exit', () => rmSync(storageRoot, { recursive: true, force: true }));
  return {
    runId,
    prefix,
    schema,
    ownDatabase: database,
    databaseUrl,
    storageRoot,
    names: brokerNames(prefix),
    /** What every service started by the bench needs in its environment to stay in this corner. */
    serviceEnv: {
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      AMQP_URL,
      AMQP_PREFIX: prefix,
      RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
      ...(storageRoot ? { STORAGE_ROOT: storageRoot } : {}),
    },
  };
}

/**
 * Every queue and exchange the services may have declared under the prefix. AMQP cannot list names,
 * so they are derived: the fixed list above plus `extra`, plus whatever the built contracts package
 * derives from a prefix today (the topology grows: e.g. a queue per message kind).
 */
async function namesToDelete({ prefix, names }, extra) {
  const queues = new Set([
    ...names.workQueues,
    names.deadLetterQueue,
    names.jobEventsQueue,
    ...names.retryQueues,
    ...extra.queues,
  ]);
  const exchanges = new Set([...names.exchanges, ...extra.exchanges]);
  try {
    const contracts = await import(pathToFileURL(resolve(ROOT, 'packages/contracts/dist/index.js')).href);
    const derived = contracts.topologyNames(prefix);
    for (const kind of Object.keys(contracts.MessageCatalog ?? {})) queues.add(derived.workQueue(kind));
    for (const delayMs of RETRY_DELAYS_MS) queues.add(derived.retryQueue(delayMs));
    for (const [key, value] of Object.entries(derived)) {
      if (typeof value === 'string') (/exchange$/i.test(key) ? exchanges : queues).add(value);
    }
  } catch (error) {
    console.error(`could not load the topology names from packages/contracts/dist: ${error.message}`);
  }
  const ours = (name) => name.startsWith(`${prefix}.`);
  return { queues: [...queues].filter(ours), exchanges: [...exchanges].filter(ours) };
}

async function deleteBrokerNames(corner, extra) {
  try {
    const { queues, exchanges } = await namesToDelete(corner, extra);
    const connection = await amqp.connect(AMQP_URL);
    // One channel per deletion: a failed one closes its channel, and must not stop the others.
    for (const queue of queues) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const exchange of exchanges) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteExchange(exchange).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    await connection.close();
  } catch (error) {
    console.error(`could not delete the broker names under ${corner.prefix}: ${error.message}`);
  }
}

async function dropDatabaseObjects({ ownDatabase, schema }) {
  try {
    // The shared database in both cases: an own database cannot be dropped from a connection to it.
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(
      ownDatabase
        ? `drop database if exists "${ownDatabase}" with (force)`
        : `drop schema if exists "${schema}" cascade`,
    );
    await client.end();
  } catch (error) {
    console.error(
      `could not drop ${ownDatabase ? `database ${ownDatabase}` : `schema ${schema}`}: ${error.message}`,
    );
  }
}

/**
 * The run's clean-up, safe to call from several places (end of main, error, Ctrl-C): the first call
 * stops every service, deletes the broker names (plus `extra` ones the bench declared itself),
 * drops the schema or own database and deletes the storage folder; later calls wait for that same work.
 */
export function cleanUpOnce(corner, { queues = [], exchanges = [] } = {}) {
  let cleanedUp;
  return () =>
    (cleanedUp ??= (async () => {
      await stopAllServices();
      await deleteBrokerNames(corner, { queues, exchanges });
      await dropDatabaseObjects(corner);
      if (corner.storageRoot) rmSync(corner.storageRoot, { recursive: true, force: true });
    })());
}

/**
 * Runs `main`, then exits 0; on an error prints it, cleans up and exits 1; on SIGINT / SIGTERM says
 * it is stopping `what`, cleans up and exits 130. process.exit also ends open sockets and timers.
 */
export function runBenchmark(main, cleanUp, what = 'the services') {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping ${what} and cleaning up...`);
      cleanUp().finally(() => process.exit(130));
    });
  }
  main().then(
    () => process.exit(0),
    async (error) => {
      console.error(`benchmark failed: ${error.stack ?? error.message}`);
      await cleanUp();
      process.exit(1);
    },
  );
}
