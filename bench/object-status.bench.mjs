// Benchmark: the object-status pipeline, producer HTTP API → RabbitMQ quorum queue → consumer →
// PostgreSQL, against the ceiling of the broker itself, in one run.
//
//   cd /work/main && npx tsc -b services/producer services/consumer services/tester && node bench/object-status.bench.mjs [--seconds 30]
//
// Options: --seconds N        length of the end-to-end phase (default 30)
//          --phase-seconds N  length of the raw-ceiling and producer phases (default 10)
//          --clients K        concurrent HTTP clients of the producer phase (default 5: 1,000 messages
//                             awaiting confirms, the bare client's window)
//          --rate R           requests/s offered end to end, 200 ids each (default 11 = 2,200 ids/s)
//          --rounds N         alternating rounds of the producer / bare comparison (default 5)
//          --round-seconds S  length of each measurement in those rounds (default 5)
//          --channels N       publish channels of the producer and of the multi-channel raw ceiling (default 8)
//          --profile DIR      diagnosis: run producer and consumer under `node --cpu-prof`, profiles in DIR
//          --roll-wal-at S    diagnosis: roll RabbitMQ's quorum-queue WAL over S s into the end-to-end phase,
//                             to see what a rollover costs the POSTs in flight (see bench/lib/rabbitmq-wal.mjs)
//          --dump FILE        diagnosis: write every end-to-end POST's send time and latency, and the
//                             per-second samples, to FILE as JSON
//
// Phases:
//   1. Raw ceiling: a bare amqplib confirm channel publishing persistent ~100-byte JSON bodies to a
//      throwaway quorum queue declared like the work queue, with 1,000 unconfirmed publishes in
//      flight; then, for reference, awaiting each confirm before the next publish; the same 1,000 in
//      flight spread over as many channels as the producer publishes on; and over those channels the
//      producer's very messages (its envelope, properties and exchange). The producer's ratio is taken
//      against the better of the two bare figures with ~100-byte bodies; its ratio to the bare client
//      sending its own messages is printed beside it (what the producer adds, not what RabbitMQ
//      charges for a bigger message).
//   2. Producer rate: K keep-alive clients POST /callback with 200 ids each, back to back, against a
//      producer process with no consumer running. Accepted ids/s and the ratio to the raw ceiling.
//   Between phases the bench waits (up to 60 s) for RabbitMQ to stay under 15 % of a core, and the
//   disks under 4 MiB/s of writes, for 2 s:
//   purging the hundreds of thousands of messages a phase leaves, and rolling its WAL over into
//   segment files, keeps the broker busy for seconds, which the next phase would otherwise measure.
//   Before each measurement (each sub-phase, each slice of the rounds, phase 3) it first rolls
//   RabbitMQ's quorum-queue WAL over: publishing at the ceiling fills its 512 MiB in ~35 s, and a
//   rollover (a pause of every quorum queue's confirms while the old file is copied out) landing in
//   one 5 s slice and not in the next made the rounds noisier; the ceiling phases write ~1.5 GB
//   through it, whose rollover would otherwise fall inside phase 3. At phase 3's own load the WAL
//   rolls over by itself about every 6 minutes (1.4 MB/s); --roll-wal-at measures what one costs.
//   3. End to end: the upstream simulator (300–4300 ms per answer) and one consumer process
//      (MAX_CONSUMERS=8000); the producer is offered a fixed load (open loop) of distinct even ids,
//      so every check writes a row. Completed checks/s over the steady window (rows in `objects`),
//      then the queue is drained and every id sent must have its row. POST /callback latency too.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random>; both are
// deleted at the end, and every child process is killed, on error and on Ctrl-C too.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { argument, flag, numberOption } from './lib/args.mjs';
import { cpuGroups as cpuGroupsOf, cpuSnapshot, CPU_COUNT, formatCpu } from './lib/cpu.mjs';
import { connectBackends, versionsLine } from './lib/backends.mjs';
import { freePort, request } from './lib/http.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { metricSum, scrape } from './lib/metrics.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import {
  assertAlive,
  assertBuilt,
  startService as start,
  waitForStatus,
  waitForSubscriber,
} from './lib/services.mjs';
import { waitForQuietBroker } from './lib/quiet-broker.mjs';
import { rollQuorumQueueWal } from './lib/rabbitmq-wal.mjs';
import { percentile } from './lib/stats.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

const E2E_SECONDS = numberOption('seconds', 30);
const PHASE_SECONDS = numberOption('phase-seconds', 10);
const CONFIRM_EACH_SECONDS = Math.max(2, PHASE_SECONDS / 2);
/** Rounds of the interleaved comparison, and each measurement's length in them. */
const ROUNDS = numberOption('rounds', 5);
const ROUND_SECONDS = numberOption('round-seconds', 5);

const E2E_REQUESTS_PER_SECOND = numberOption('rate', 11);
/** --profile DIR: run the consumer under `node --cpu-prof` and write its profile to DIR (diagnosis only). */
const PROFILE_DIR = flag('profile') ? resolve(argument('profile') ?? '/tmp') : undefined;
/** --roll-wal-at S: force a WAL rollover S seconds into the end-to-end phase (diagnosis only). */
const ROLL_WAL_AT_SECONDS = flag('roll-wal-at') ? numberOption('roll-wal-at', 30) : undefined;
/** --dump FILE: the end-to-end phase's raw timings as JSON (diagnosis only). */
const DUMP_FILE = flag('dump') ? resolve(argument('dump') ?? 'object-status-e2e.json') : undefined;
const IDS_PER_REQUEST = 200;
const RAW_WINDOW = 1000;
/**
 * Like for like: as many callbacks in flight as make the bare client's window of unconfirmed
 * publishes (5 × 200 = 1,000). More clients only queue more messages in RabbitMQ (16 × 200 made
 * 3,200 in flight, POST p50 130 ms, and no more ids per second).
 */
const PRODUCER_CLIENTS = numberOption('clients', RAW_WINDOW / IDS_PER_REQUEST);
/** The producer's PUBLISH_CHANNELS, and the channels of the bare multi-channel yardstick. */
const PUBLISH_CHANNELS = numberOption('channels', 8);
/**
 * 2,200 checks/s of 0.3–4.3 s each keep ~5,100 in flight on average; while the consumer starts
 * (thousands of upstream connections to open, cold code) checks take longer, and a cap of 6,000
 * held a few thousand messages back for the first 10–15 s (loop delay 100–270 ms). 8,000 leaves
 * room for that start.
 */
const MAX_CONSUMERS = 8000;
/** Nothing completes before 300 ms and everything sent at t=0 is done by 4.3 s: the steady window starts after that. */
const E2E_WARMUP_SECONDS = Math.min(6, E2E_SECONDS / 3);
const DRAIN_STALL_SECONDS = 20;
const DRAIN_MAX_SECONDS = 90;

const TARGETS = { producerRatio: 0.7, checksPerSecond: 2000, callbackP99Ms: 50 };

const CORNER = isolate();
const { prefix: PREFIX, schema: SCHEMA, databaseUrl: DATABASE_URL } = CORNER;
const NAMES = {
  workQueue: CORNER.names.workQueue('object.check'),
  rawQueue: `${PREFIX}.raw-ceiling`,
  rawExchange: `${PREFIX}.raw-ceiling`,
  deadLetterQueue: CORNER.names.deadLetterQueue,
  retryQueues: CORNER.names.retryQueues,
};

const startService = (service, env, nodeArgs) => start(service, { ...CORNER.serviceEnv, ...env }, nodeArgs);
// The figures of this bench are printed with RabbitMQ before PostgreSQL.
const cpuGroups = (services) => cpuGroupsOf(services, ['rabbitmq', 'postgres']);

// ---------------------------------------------------------------------------------------------
// Phase 1: raw ceiling

/**
 * Keeps RAW_WINDOW publishes unconfirmed for `seconds`, respecting the socket's back-pressure;
 * confirmed messages per second, the tail of confirms included in the time.
 */
async function windowedPublish(channel, exchange, routingKey, message, seconds, window = RAW_WINDOW) {
  let inFlight = 0;
  let confirmed = 0;
  let nacked = 0;
  let wake;
  const onConfirm = (error) => {
    inFlight -= 1;
    if (error) nacked += 1;
    else confirmed += 1;
    if (wake) {
      const resolveWake = wake;
      wake = undefined;
      resolveWake();
    }
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    if (inFlight >= window) {
      await new Promise((r) => (wake = r));
      continue;
    }
    inFlight += 1;
    const { body, properties } = message();
    const writable = channel.publish(exchange, routingKey, body, properties, onConfirm);
    if (!writable) await once(channel, 'drain');
  }
  await channel.waitForConfirms().catch(() => undefined);
  const elapsed = (performance.now() - started) / 1000;
  return { rate: confirmed / elapsed, confirmed, nacked, seconds: elapsed };
}

/** The bare client's messages: ~100-byte JSON bodies, persistent, mandatory, a short message id. */
function plainMessages() {
  const body = Buffer.from(
    JSON.stringify({ objectId: 123456789, receivedAt: new Date().toISOString(), pad: 'x'.repeat(40) }),
  );
  let sequence = 0;
  return () => ({
    body,
    properties: {
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: `raw-${(sequence += 1)}`,
    },
  });
}

const RAW_QUEUE_ARGUMENTS = {
  'x-queue-type': 'quorum',
  'x-overflow': 'reject-publish',
  'x-delivery-limit': 20,
};

async function rawCeiling(connection) {
  const channel = await connection.createConfirmChannel();
  // The same kind of queue as the work queue (quorum, reject-publish overflow, delivery limit).
  await channel.assertQueue(NAMES.rawQueue, { durable: true, arguments: RAW_QUEUE_ARGUMENTS });
  const plain = plainMessages();
  const { body } = plain();
  let sequence = 0;

  await startOnFreshWal();

  // 1a. ~100-byte bodies through the default exchange.
  const cpuBefore = cpuSnapshot(cpuGroups({}));
  const windowed = await windowedPublish(channel, '', NAMES.rawQueue, plain, PHASE_SECONDS);
  const cpu = cpuSnapshot(cpuGroups({})).since(cpuBefore);

  // 1b. Awaiting each confirm before the next publish: a round trip plus a quorum commit per message.
  let eachConfirmed = 0;
  const eachStarted = performance.now();
  const eachDeadline = eachStarted + CONFIRM_EACH_SECONDS * 1000;
  while (performance.now() < eachDeadline) {
    const { body: eachBody, properties } = plain();
    await new Promise((resolveConfirm, reject) =>
      channel.publish('', NAMES.rawQueue, eachBody, properties, (error) =>
        error ? reject(error) : resolveConfirm(),
      ),
    );
    eachConfirmed += 1;
  }
  const eachRate = eachConfirmed / ((performance.now() - eachStarted) / 1000);

  // 1c. What the producer actually sends: a full envelope (~300 bytes) through a direct exchange,
  // mandatory, with message id, correlation id, type and timestamp. Same window, for comparison.
  await channel.purgeQueue(NAMES.rawQueue);
  await startOnFreshWal();
  await channel.assertExchange(NAMES.rawExchange, 'direct', { durable: false, autoDelete: false });
  await channel.bindQueue(NAMES.rawQueue, NAMES.rawExchange, 'object.check.v1');
  const correlationId = randomUUID();
  const shaped = () => {
    const now = new Date();
    const messageId = randomUUID();
    const envelope = {
      messageId,
      kind: 'object.check',
      version: 1,
      createdAt: now.toISOString(),
      attempt: 0,
      correlationId,
      payload: { objectId: 123456789 + sequence, receivedAt: now.toISOString() },
    };
    sequence += 1;
    return {
      body: Buffer.from(JSON.stringify(envelope)),
      // The producer's properties: persistence and the message id; the rest is in the envelope.
      properties: { persistent: true, mandatory: true, messageId },
    };
  };
  const shapedBytes = shaped().body.length;

  // 1d. The window of 1a spread over as many confirm channels as the producer uses: RabbitMQ takes
  // at most 32 commands at a time from one channel into a quorum queue.
  await channel.purgeQueue(NAMES.rawQueue);
  await startOnFreshWal();
  const channels = await Promise.all(
    Array.from({ length: PUBLISH_CHANNELS }, () => connection.createConfirmChannel()),
  );
  const perChannel = Math.ceil(RAW_WINDOW / PUBLISH_CHANNELS);
  const cpuChannelsBefore = cpuSnapshot(cpuGroups({}));
  const lanes = await Promise.all(
    channels.map((lane) => windowedPublish(lane, '', NAMES.rawQueue, plain, PHASE_SECONDS, perChannel)),
  );
  const cpuChannels = cpuSnapshot(cpuGroups({})).since(cpuChannelsBefore);
  const channelsConfirmed = lanes.reduce((sum, lane) => sum + lane.confirmed, 0);
  const channelsSeconds = Math.max(...lanes.map((lane) => lane.seconds));

  // 1c. The producer's very messages (its envelope, properties and exchange) from the bare client
  // over the same channels: what RabbitMQ takes of these messages, without HTTP or the producer.
  await channel.purgeQueue(NAMES.rawQueue);
  await startOnFreshWal();
  const cpuShapedBefore = cpuSnapshot(cpuGroups({}));
  const shapedLanes = await Promise.all(
    channels.map((lane) =>
      windowedPublish(lane, NAMES.rawExchange, 'object.check.v1', shaped, PHASE_SECONDS, perChannel),
    ),
  );
  const cpuShaped = cpuSnapshot(cpuGroups({})).since(cpuShapedBefore);
  const producerShaped = {
    confirmed: shapedLanes.reduce((sum, lane) => sum + lane.confirmed, 0),
    nacked: shapedLanes.reduce((sum, lane) => sum + lane.nacked, 0),
    seconds: Math.max(...shapedLanes.map((lane) => lane.seconds)),
  };
  producerShaped.rate = producerShaped.confirmed / producerShaped.seconds;
  await Promise.all(channels.map((lane) => lane.close()));

  await channel.deleteExchange(NAMES.rawExchange);
  await channel.deleteQueue(NAMES.rawQueue);
  await channel.close();
  return {
    windowedRate: windowed.rate,
    confirmed: windowed.confirmed,
    nacked: windowed.nacked + producerShaped.nacked,
    windowedSeconds: windowed.seconds,
    eachRate,
    eachConfirmed,
    bodyBytes: body.length,
    cpu,
    shapedRate: producerShaped.rate,
    shapedBytes,
    shapedSeconds: producerShaped.seconds,
    cpuShaped,
    channelsRate: channelsConfirmed / channelsSeconds,
    channelsConfirmed,
    channelsSeconds,
    channelsNacked: lanes.reduce((sum, lane) => sum + lane.nacked, 0),
    cpuChannels,
    /** The yardstick of the producer's ratio: the better bare windowed figure. */
    ceiling: Math.max(windowed.rate, channelsConfirmed / channelsSeconds),
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 2: producer rate

/** Ids of the producer phase are odd: should any of them reach a consumer, it writes no row. */
function oddBodies(count) {
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify({
      object_ids: Array.from(
        { length: IDS_PER_REQUEST },
        (_, i) => 2 * (b * IDS_PER_REQUEST + i) + 1_000_000_001,
      ),
    }),
  );
}

/**
 * The producer against the bare client in alternating rounds: RabbitMQ's rate on this machine
 * drifts by a quarter between runs minutes apart, so figures taken a phase apart compare badly.
 * Each round measures the bare client on one channel, on PUBLISH_CHANNELS channels and the
 * producer, ROUND_SECONDS each (every other round in the reverse order), each from a quiet broker
 * and an empty queue; the round's ratio is the producer against the better bare figure of the
 * same round, and the target applies to the median of the rounds.
 */
async function interleavedRounds(connection, probe, producer, producerPort, db) {
  const admin = await connection.createChannel();
  await admin.assertQueue(NAMES.rawQueue, { durable: true, arguments: RAW_QUEUE_ARGUMENTS });
  const single = await connection.createConfirmChannel();
  const lanes = await Promise.all(
    Array.from({ length: PUBLISH_CHANNELS }, () => connection.createConfirmChannel()),
  );
  const perChannel = Math.ceil(RAW_WINDOW / PUBLISH_CHANNELS);
  const plain = plainMessages();
  const steps = {
    one: async () => (await windowedPublish(single, '', NAMES.rawQueue, plain, ROUND_SECONDS)).rate,
    channels: async () => {
      const results = await Promise.all(
        lanes.map((lane) => windowedPublish(lane, '', NAMES.rawQueue, plain, ROUND_SECONDS, perChannel)),
      );
      return results.reduce((sum, r) => sum + r.confirmed, 0) / Math.max(...results.map((r) => r.seconds));
    },
    producer: async () => (await producerRate(producer, producerPort, db, ROUND_SECONDS)).rate,
  };
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['one', 'channels', 'producer'] : ['producer', 'channels', 'one'];
    const rates = {};
    for (const step of order) {
      rates[step] = await steps[step]();
      await admin.purgeQueue(NAMES.rawQueue);
      await probe.purgeQueue(NAMES.workQueue);
      await startOnFreshWal();
    }
    const ratio = rates.producer / Math.max(rates.one, rates.channels);
    rounds.push({ ...rates, ratio });
    log(
      `round ${round + 1}/${ROUNDS}: bare ${fmt(rates.one)} msg/s on one channel, ${fmt(rates.channels)} on ${PUBLISH_CHANNELS}; ` +
        `producer ${fmt(rates.producer)} ids/s = ${fmt(100 * ratio, 1)} %`,
    );
  }
  await Promise.all([single, ...lanes].map((channel) => channel.close()));
  await admin.deleteQueue(NAMES.rawQueue);
  await admin.close();
  const ratios = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  return { rounds, medianRatio: percentile(ratios, 50), minRatio: ratios[0], maxRatio: ratios.at(-1) };
}

let walRollFailure;
/**
 * Rolls RabbitMQ's quorum-queue WAL over and waits for the broker and the disk to be quiet, so that
 * the measurement that follows starts on an empty WAL and no rollover of what came before falls
 * inside it (bench/lib/rabbitmq-wal.mjs). Every measured slice starts this way, bare and producer alike.
 */
async function startOnFreshWal() {
  const rolled = await rollQuorumQueueWal();
  if (!rolled.ok && walRollFailure === undefined) {
    walRollFailure = rolled.error;
    log(
      `could not roll RabbitMQ's quorum-queue WAL over (${rolled.error}); the figures may include its rollovers`,
    );
  }
  return waitForQuietBroker();
}

/** Lets RabbitMQ finish what the previous phase left it (see startOnFreshWal), and says so. */
async function settle(after) {
  const quiet = await startOnFreshWal();
  log(
    quiet.quiet
      ? `RabbitMQ and the disk quiet ${fmt(quiet.seconds, 0)} s after ${after}`
      : `RabbitMQ or the disk still busy (${fmt(quiet.percent)} % of a core, ${fmt(quiet.diskMiBps, 1)} MiB/s written) ${fmt(quiet.seconds, 0)} s after ${after}; going on`,
  );
}

async function producerRate(producer, producerPort, db, phaseSeconds = PHASE_SECONDS) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PRODUCER_CLIENTS });
  const bodies = oddBodies(64);
  const latencies = [];
  let accepted = 0;
  let failures = 0;
  let firstFailure;
  const metricsBefore = await scrape(producer.opsPort);
  const cpuBefore = cpuSnapshot(cpuGroups({ producer }));
  const started = performance.now();
  const deadline = started + phaseSeconds * 1000;
  let next = 0;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = bodies[(next += 1) % bodies.length];
      const sentAt = performance.now();
      try {
        const response = await request(agent, producerPort, 'POST', '/callback', body);
        latencies.push(performance.now() - sentAt);
        if (response.status === 200) accepted += JSON.parse(response.body).accepted;
        else {
          failures += 1;
          firstFailure ??= `${response.status} ${response.body.slice(0, 200)}`;
        }
      } catch (error) {
        failures += 1;
        firstFailure ??= error.message;
      }
    }
  };
  await Promise.all(Array.from({ length: PRODUCER_CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSnapshot(cpuGroups({ producer })).since(cpuBefore);
  const metricsAfter = await scrape(producer.opsPort);
  agent.destroy();
  const delta = (name) => metricSum(metricsAfter, name) - metricSum(metricsBefore, name);
  latencies.sort((a, b) => a - b);

  // Spilled messages would be relayed later: wait for the outbox to empty before purging.
  const outboxDeadline = Date.now() + 30_000;
  let outboxLeft = 0;
  for (;;) {
    outboxLeft = Number((await db.query(`select count(*)::int as n from "${SCHEMA}".outbox`)).rows[0].n);
    if (outboxLeft === 0 || Date.now() > outboxDeadline) break;
    await sleep(250);
  }
  return {
    rate: accepted / seconds,
    accepted,
    failures,
    firstFailure,
    seconds,
    published: delta('conveyor_messages_published_total'),
    spilled: delta('conveyor_outbox_spilled_total'),
    publishFailures: delta('conveyor_publish_failures_total'),
    outboxLeft,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 3: end to end

async function endToEnd({ producer, producerPort, consumer, opsPort, simulator, db, channel }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const intervalMs = 1000 / E2E_REQUESTS_PER_SECOND;
  const totalRequests = Math.round(E2E_SECONDS * E2E_REQUESTS_PER_SECOND);
  const acceptedRanges = []; // [firstId, count] of every answered request
  const latencies = [];
  const timedLatencies = [];
  let failures = 0;
  let firstFailure;
  let nextId = 2; // even ids only: the simulator reports them online, so each check writes a row
  const inFlightRequests = new Set();
  const samples = []; // { t, rows, acked, consumed, ready, loopP99 }
  const groups = cpuGroups({ producer, consumer, simulator });

  const METRICS = {
    acked: 'conveyor_messages_acked_total',
    consumed: 'conveyor_messages_consumed_total',
    retried: 'conveyor_messages_retried_total',
    deadLettered: 'conveyor_messages_dead_lettered_total',
    nacked: 'conveyor_messages_nacked_total',
    processingSum: 'conveyor_message_processing_seconds_sum',
    processingCount: 'conveyor_message_processing_seconds_count',
    loopP99: 'nodejs_eventloop_lag_p99_seconds',
  };
  let scrapeFailures = 0;
  // A consumer too busy to answer /metrics in time keeps its previous values for that second;
  // the row count (the figure that matters) comes from PostgreSQL either way.
  const sample = async (t) => {
    const [rows, metrics, queue] = await Promise.allSettled([
      db.query(`select count(*)::int as n from "${SCHEMA}".objects`).then((r) => Number(r.rows[0].n)),
      scrape(opsPort, 2_000),
      channel.checkQueue(NAMES.workQueue),
    ]);
    const previous = samples.at(-1) ?? {
      rows: 0,
      ready: 0,
      ...Object.fromEntries(Object.keys(METRICS).map((k) => [k, 0])),
    };
    if (metrics.status === 'rejected') scrapeFailures += 1;
    const entry = {
      t,
      rows: rows.status === 'fulfilled' ? rows.value : previous.rows,
      ready: queue.status === 'fulfilled' ? queue.value.messageCount : previous.ready,
    };
    for (const [key, name] of Object.entries(METRICS)) {
      entry[key] = metrics.status === 'fulfilled' ? metricSum(metrics.value, name) : previous[key];
    }
    samples.push(entry);
  };

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let sampling = true;
  const sampler = (async () => {
    for (let second = 0; sampling; second += 1) {
      const wait = started + second * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      if (!sampling) break;
      await sample(elapsed()).catch((error) => log(`sample failed: ${error.message}`));
    }
  })();

  let walRoll;
  if (ROLL_WAL_AT_SECONDS !== undefined) {
    walRoll = sleep(ROLL_WAL_AT_SECONDS * 1000).then(async () => {
      const at = elapsed();
      const result = await rollQuorumQueueWal();
      log(
        result.ok
          ? `rolled RabbitMQ's WAL over at ${fmt(at, 1)} s`
          : `could not roll RabbitMQ's WAL over: ${result.error}`,
      );
      return { ...result, at };
    });
  }

  let cpuWindowStart;
  let cpuWindowEnd;
  for (let i = 0; i < totalRequests; i += 1) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (cpuWindowStart === undefined && elapsed() >= E2E_WARMUP_SECONDS) cpuWindowStart = cpuSnapshot(groups);
    assertAlive(consumer);
    const firstId = nextId;
    nextId += 2 * IDS_PER_REQUEST;
    const body = JSON.stringify({
      object_ids: Array.from({ length: IDS_PER_REQUEST }, (_, j) => firstId + 2 * j),
    });
    const sentAt = performance.now();
    const pending = request(agent, producerPort, 'POST', '/callback', body)
      .then((response) => {
        latencies.push(performance.now() - sentAt);
        timedLatencies.push([(sentAt - started) / 1000, performance.now() - sentAt]);
        if (response.status === 200) acceptedRanges.push([firstId, IDS_PER_REQUEST]);
        else {
          failures += 1;
          firstFailure ??= `${response.status} ${response.body.slice(0, 200)}`;
        }
      })
      .catch((error) => {
        failures += 1;
        firstFailure ??= error.message;
      })
      .finally(() => inFlightRequests.delete(pending));
    inFlightRequests.add(pending);
  }
  // The last request is due at (n-1)·interval; the offered window ends one interval later.
  const sendEnd = started + totalRequests * intervalMs;
  if (sendEnd > performance.now()) await sleep(sendEnd - performance.now());
  cpuWindowEnd = cpuSnapshot(groups);
  const sendEndSeconds = elapsed();
  await Promise.all(inFlightRequests);
  const idsSent = acceptedRanges.reduce((sum, [, count]) => sum + count, 0);
  log(`sent ${fmt(idsSent)} ids in ${fmt(sendEndSeconds, 1)} s; draining...`);

  // Drain: until every id has its row, or nothing moved for DRAIN_STALL_SECONDS.
  let lastProgressAt = performance.now();
  let lastRows = -1;
  for (;;) {
    await sleep(1000);
    const latest = samples.at(-1);
    if (latest && latest.rows !== lastRows) {
      lastRows = latest.rows;
      lastProgressAt = performance.now();
    }
    if (latest && latest.rows >= idsSent && latest.ready === 0 && latest.acked >= latest.consumed) break;
    if (
      (performance.now() - lastProgressAt) / 1000 > DRAIN_STALL_SECONDS ||
      elapsed() - sendEndSeconds > DRAIN_MAX_SECONDS
    )
      break;
  }
  sampling = false;
  await sampler;
  await sample(elapsed());
  const drainSeconds = elapsed() - sendEndSeconds;
  agent.destroy();
  if (DUMP_FILE) {
    writeFileSync(DUMP_FILE, JSON.stringify({ walRoll: await walRoll, timedLatencies, samples }));
    log(`wrote the end-to-end timings to ${DUMP_FILE}`);
  }

  // Steady window: interpolate the counters at the window's edges from the per-second samples.
  const at = (t, key) => {
    const after = samples.findIndex((s) => s.t >= t);
    if (after <= 0) return samples[Math.max(after, 0)][key];
    const a = samples[after - 1];
    const b = samples[after];
    return a[key] + ((b[key] - a[key]) * (t - a.t)) / (b.t - a.t);
  };
  const windowSeconds = sendEndSeconds - E2E_WARMUP_SECONDS;
  const rowsRate = (at(sendEndSeconds, 'rows') - at(E2E_WARMUP_SECONDS, 'rows')) / windowSeconds;
  const ackedRate = (at(sendEndSeconds, 'acked') - at(E2E_WARMUP_SECONDS, 'acked')) / windowSeconds;
  let steady = samples.filter((s) => s.t >= E2E_WARMUP_SECONDS && s.t <= sendEndSeconds);
  if (steady.length === 0) steady = samples;
  const inFlightMax = Math.max(...steady.map((s) => s.consumed - s.acked));
  const readyMax = Math.max(...steady.map((s) => s.ready));
  const loopP99Max = Math.max(...steady.map((s) => s.loopP99));
  const windowFirst = steady[0];
  const windowLast = steady.at(-1);
  const meanProcessingSeconds =
    (windowLast.processingSum - windowFirst.processingSum) /
    Math.max(1, windowLast.processingCount - windowFirst.processingCount);

  // Zero lost: every accepted id has its row.
  const rowIds = new Set(
    (await db.query(`select id::text as id from "${SCHEMA}".objects`)).rows.map((r) => r.id),
  );
  let lost = 0;
  for (const [firstId, count] of acceptedRanges)
    for (let j = 0; j < count; j += 1) if (!rowIds.has(String(firstId + 2 * j))) lost += 1;
  const parked = {};
  for (const queue of [NAMES.deadLetterQueue, ...NAMES.retryQueues, NAMES.workQueue])
    parked[queue] = (await channel.checkQueue(queue)).messageCount;

  latencies.sort((a, b) => a - b);
  // The same percentiles over the steady window only (after the consumer's warm-up, while sending).
  const steadyLatencies = timedLatencies
    .filter(([t]) => t >= E2E_WARMUP_SECONDS)
    .map(([, ms]) => ms)
    .sort((a, b) => a - b);
  const last = samples.at(-1);
  return {
    offered: E2E_REQUESTS_PER_SECOND * IDS_PER_REQUEST,
    idsSent,
    requests: totalRequests,
    failures,
    firstFailure,
    rowsRate,
    ackedRate,
    windowSeconds,
    rows: rowIds.size,
    lost,
    drainSeconds,
    drained: last.rows >= idsSent && last.ready === 0,
    parked,
    retried: last.retried,
    deadLettered: last.deadLettered,
    nacked: last.nacked,
    inFlightMax,
    readyMax,
    loopP99Max,
    scrapeFailures,
    meanProcessingSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
    timedLatencies,
    walRoll: await walRoll,
    steadyP50: percentile(steadyLatencies, 50),
    steadyP99: percentile(steadyLatencies, 99),
    cpu: cpuWindowEnd.since(cpuWindowStart),
    samples,
  };
}

// The raw-ceiling queue and exchange are the bench's own: normally deleted by phase 1, unless it failed.
const cleanUp = cleanUpOnce(CORNER, { queues: [NAMES.rawQueue], exchanges: [NAMES.rawExchange] });

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  assertBuilt(
    ['producer', 'consumer', 'tester'],
    'npx tsc -b services/producer services/consumer services/tester',
  );
  console.log(
    `Object-status pipeline benchmark — prefix ${PREFIX}, schema ${SCHEMA}, ${CPU_COUNT} cores, node ${process.version}`,
  );

  const backends = await connectBackends(DATABASE_URL);
  const { connection, channel: probe, db } = backends;
  try {
    console.log(await versionsLine(backends));

    // 1. Raw ceiling
    log(
      `phase 1: raw ceiling, ${PHASE_SECONDS} s windowed (${RAW_WINDOW} in flight) + ${CONFIRM_EACH_SECONDS} s confirm-each + ${PHASE_SECONDS} s over ${PUBLISH_CHANNELS} channels + ${PHASE_SECONDS} s of producer-shaped messages over them`,
    );
    const raw = await rawCeiling(connection);
    log(
      `raw: ${fmt(raw.windowedRate)} msg/s windowed (${raw.nacked} nacked), ${fmt(raw.eachRate)} msg/s confirm-each, ` +
        `${fmt(raw.channelsRate)} msg/s over ${PUBLISH_CHANNELS} channels, ${fmt(raw.shapedRate)} msg/s producer-shaped over them; CPU: ${formatCpu(raw.cpu)}`,
    );

    await settle('the raw phases');

    // 2. Producer rate
    const producerPort = await freePort();
    const producerOpsPort = await freePort();
    const producer = startService(
      'producer',
      {
        PORT: String(producerPort),
        OPS_PORT: String(producerOpsPort),
        PUBLISH_CHANNELS: String(PUBLISH_CHANNELS),
      },
      PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    );
    // The producer's /metrics is on its ops port, not the API's.
    producer.opsPort = producerOpsPort;
    await waitForStatus(producer, producerPort, '/readyz', 200);
    log(
      `phase 2: producer rate, ${PRODUCER_CLIENTS} clients × ${IDS_PER_REQUEST} ids per POST /callback, ${PHASE_SECONDS} s, no consumer`,
    );
    const prod = await producerRate(producer, producerPort, db);
    await probe.purgeQueue(NAMES.workQueue);
    log(
      `producer: ${fmt(prod.rate)} ids/s (${fmt(prod.published)} confirmed, ${fmt(prod.spilled)} spilled, ${prod.failures} failed requests), ` +
        `p50 ${fmt(prod.p50, 1)} ms p99 ${fmt(prod.p99, 1)} ms; CPU: ${formatCpu(prod.cpu)}`,
    );
    if (prod.firstFailure) log(`first failure: ${prod.firstFailure}`);
    await settle('the producer phase');

    // 2b. The producer against the bare client, interleaved
    log(
      `phase 2b: ${ROUNDS} interleaved rounds of bare one-channel / ${PUBLISH_CHANNELS}-channel / producer, ${ROUND_SECONDS} s each`,
    );
    const interleaved = await interleavedRounds(connection, probe, producer, producerPort, db);
    await settle('the interleaved rounds');

    // 3. End to end
    const simulatorPort = await freePort();
    const simulator = startService('tester', {
      SIMULATOR_PORT: String(simulatorPort),
      SENDER_ENABLED: 'false',
    });
    await waitForStatus(simulator, simulatorPort, '/', 404);
    const opsPort = await freePort();
    const consumer = startService(
      'consumer',
      {
        OPS_PORT: String(opsPort),
        OBJECT_CHECKS_IN_FLIGHT: String(MAX_CONSUMERS),
        OBJECTS_API_URL: `http://127.0.0.1:${simulatorPort}`,
      },
      PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    );
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    await waitForSubscriber(probe, NAMES.workQueue, 'the consumer', 'the work queue');
    log(
      `phase 3: end to end, ${fmt(E2E_REQUESTS_PER_SECOND * IDS_PER_REQUEST)} ids/s offered (${E2E_REQUESTS_PER_SECOND} req/s × ${IDS_PER_REQUEST}) for ${E2E_SECONDS} s, one consumer (MAX_CONSUMERS=${MAX_CONSUMERS})`,
    );
    const e2e = await endToEnd({ producer, producerPort, consumer, opsPort, simulator, db, channel: probe });
    log(
      `end to end: ${fmt(e2e.rowsRate)} checks/s (rows), ${fmt(e2e.ackedRate)} acks/s over ${fmt(e2e.windowSeconds, 1)} s; ` +
        `lost ${e2e.lost} of ${fmt(e2e.idsSent)}; drain ${fmt(e2e.drainSeconds, 1)} s`,
    );
    if (e2e.firstFailure) log(`first failure: ${e2e.firstFailure}`);

    printTable(
      'End-to-end timeline (per ~5 s)',
      [
        't (s)',
        'rows',
        'rows/s',
        'in flight',
        'queue ready',
        'loop p99 ms',
        'POSTs sent',
        'POST p50 / max ms',
      ],
      e2e.samples
        .filter((s, i) => i % 5 === 0 || i === e2e.samples.length - 1)
        .map((s, i, shown) => {
          const previous = shown[i - 1];
          const rate = previous ? (s.rows - previous.rows) / (s.t - previous.t) : 0;
          // Requests sent since the previous row, by their send time.
          const posts = e2e.timedLatencies
            .filter(([t]) => t >= (previous?.t ?? -1) && t < s.t)
            .map(([, ms]) => ms)
            .sort((x, y) => x - y);
          return [
            fmt(s.t, 1),
            fmt(s.rows),
            fmt(rate),
            fmt(s.consumed - s.acked),
            fmt(s.ready),
            fmt(s.loopP99 * 1000, 1),
            fmt(posts.length),
            posts.length ? `${fmt(percentile(posts, 50), 1)} / ${fmt(posts.at(-1), 1)}` : '',
          ];
        }),
    );

    printTable(
      'Details',
      ['Figure', 'Value'],
      [
        ['raw: message body', `${raw.bodyBytes} bytes, persistent, quorum queue`],
        [
          'raw: windowed confirms',
          `${fmt(raw.confirmed)} in ${fmt(raw.windowedSeconds, 1)} s, ${raw.nacked} nacked`,
        ],
        [
          'raw: confirm-each',
          `${fmt(raw.eachConfirmed)} in ${CONFIRM_EACH_SECONDS} s (${fmt(1000 / raw.eachRate, 2)} ms per confirm)`,
        ],
        ['raw: CPU (% of one core)', formatCpu(raw.cpu)],
        [
          'raw: producer-shaped messages',
          `${fmt(raw.shapedRate)} msg/s: ${raw.shapedBytes}-byte envelope, direct exchange, its properties, ${RAW_WINDOW} in flight over ${PUBLISH_CHANNELS} channels`,
        ],
        ['raw: producer-shaped CPU', formatCpu(raw.cpuShaped)],
        [
          `raw: ${PUBLISH_CHANNELS} channels`,
          `${fmt(raw.channelsConfirmed)} in ${fmt(raw.channelsSeconds, 1)} s, ${raw.channelsNacked} nacked, ${fmt(Math.ceil(RAW_WINDOW / PUBLISH_CHANNELS))} in flight per channel`,
        ],
        [`raw: ${PUBLISH_CHANNELS} channels CPU`, formatCpu(raw.cpuChannels)],
        ['producer: clients × ids', `${PRODUCER_CLIENTS} × ${IDS_PER_REQUEST}`],
        [
          'producer: accepted ids',
          `${fmt(prod.accepted)} in ${fmt(prod.seconds, 1)} s (${prod.failures} failed requests)`,
        ],
        [
          'producer: confirmed / spilled',
          `${fmt(prod.published)} / ${fmt(prod.spilled)} (outbox left: ${prod.outboxLeft})`,
        ],
        [
          'producer: POST latency p50 / p99',
          `${fmt(prod.p50, 1)} / ${fmt(prod.p99, 1)} ms (saturated, closed loop)`,
        ],
        ['producer: CPU (% of one core)', formatCpu(prod.cpu)],
        [
          'e2e: offered',
          `${fmt(e2e.offered)} ids/s, ${e2e.requests} requests, ${fmt(e2e.idsSent)} ids accepted, ${e2e.failures} failed`,
        ],
        [
          'e2e: completed (rows / acks)',
          `${fmt(e2e.rowsRate)} / ${fmt(e2e.ackedRate)} per s over ${fmt(e2e.windowSeconds, 1)} s`,
        ],
        [
          'e2e: max in flight / max ready',
          `${fmt(e2e.inFlightMax)} / ${fmt(e2e.readyMax)} (handlers at most ${MAX_CONSUMERS}; prefetch twice that while acks are held)`,
        ],
        ['e2e: mean delivery→ack', `${fmt(e2e.meanProcessingSeconds, 2)} s (upstream alone: 2.30 s)`],
        [
          'e2e: consumer loop delay p99 (max)',
          `${fmt(e2e.loopP99Max * 1000, 1)} ms${e2e.scrapeFailures ? ` (/metrics unanswered within 2 s ${e2e.scrapeFailures}×)` : ''}`,
        ],
        [
          'e2e: retried / dead-lettered / nacked',
          `${fmt(e2e.retried)} / ${fmt(e2e.deadLettered)} / ${fmt(e2e.nacked)}`,
        ],
        [
          'e2e: left in queues',
          Object.entries(e2e.parked)
            .filter(([, n]) => n > 0)
            .map(([q, n]) => `${q.slice(PREFIX.length + 1)}=${n}`)
            .join(', ') || 'none',
        ],
        ['e2e: drain after sending', `${fmt(e2e.drainSeconds, 1)} s${e2e.drained ? '' : ' (NOT drained)'}`],
        [
          'e2e: POST latency p50 / p99 / max',
          `${fmt(e2e.p50, 1)} / ${fmt(e2e.p99, 1)} / ${fmt(e2e.max, 1)} ms`,
        ],
        [
          'e2e: POST latency p50 / p99, steady',
          `${fmt(e2e.steadyP50, 1)} / ${fmt(e2e.steadyP99, 1)} ms (after the ${E2E_WARMUP_SECONDS} s warm-up)`,
        ],
        ['e2e: CPU (% of one core, steady)', formatCpu(e2e.cpu)],
        [
          "RabbitMQ's quorum-queue WAL",
          [
            walRollFailure === undefined
              ? 'rolled over before each measurement'
              : `not rolled over (${walRollFailure})`,
            e2e.walRoll &&
              (e2e.walRoll.ok
                ? `rolled over at ${fmt(e2e.walRoll.at, 1)} s into it (counted in the POST latencies)`
                : `not rolled over during it (${e2e.walRoll.error})`),
          ]
            .filter(Boolean)
            .join('; '),
        ],
        [
          'service warn/error log lines',
          [producer, consumer, simulator].map((h) => `${h.service} ${h.warnings}/${h.errors}`).join(', '),
        ],
      ],
    );

    const noisy = [
      ['raw ceiling', raw.cpu],
      ['producer', prod.cpu],
      ['end to end', e2e.cpu],
    ].filter(([, cpu]) => cpu.others > 20);
    for (const handle of [producer, consumer, simulator]) {
      if (handle.firstWarning) console.log(`first warning of the ${handle.service}: ${handle.firstWarning}`);
    }
    if (noisy.length > 0) {
      console.log(
        `\nWARNING: other processes on this machine used CPU during the run (${noisy
          .map(([phase, cpu]) => `${phase}: ${fmt(cpu.others)}% of a core`)
          .join(', ')}); the figures of those phases are lower than on an idle machine.`,
      );
    }

    const ratio = prod.rate / raw.ceiling;
    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const zeroLost = e2e.lost === 0 && e2e.rows === e2e.idsSent && e2e.drained;
    printTable(
      'Summary',
      ['Figure', 'Measured', 'Target', 'Result'],
      [
        ['Raw ceiling, 1,000 in flight (msg/s)', fmt(raw.windowedRate), '(reference)', ''],
        ['Raw, awaiting each confirm (msg/s)', fmt(raw.eachRate), '(reference)', ''],
        [
          `Raw, 1,000 in flight over ${PUBLISH_CHANNELS} channels (msg/s)`,
          fmt(raw.channelsRate),
          '(reference)',
          '',
        ],
        [
          `Raw, the producer's messages over ${PUBLISH_CHANNELS} channels (msg/s)`,
          fmt(raw.shapedRate),
          '(reference)',
          '',
        ],
        [`Producer, ${PRODUCER_CLIENTS} clients × 200 ids (ids/s)`, fmt(prod.rate), '', ''],
        [
          'Producer / raw ceiling, the phases above (the better bare figure)',
          `${fmt(100 * ratio, 1)} %`,
          '(reference)',
          '',
        ],
        [
          `Producer / raw ceiling, median of ${ROUNDS} interleaved rounds (range)`,
          `${fmt(100 * interleaved.medianRatio, 1)} % (${fmt(100 * interleaved.minRatio, 1)}–${fmt(100 * interleaved.maxRatio, 1)})`,
          '≥ 70 %',
          verdict(interleaved.medianRatio >= TARGETS.producerRatio),
        ],
        [
          "Producer / bare client sending the producer's messages",
          `${fmt((100 * prod.rate) / raw.shapedRate, 1)} %`,
          '(reference)',
          '',
        ],
        [
          'End-to-end checks/s, one consumer',
          fmt(e2e.rowsRate),
          `≥ ${fmt(TARGETS.checksPerSecond)}`,
          verdict(e2e.rowsRate >= TARGETS.checksPerSecond),
        ],
        [
          'Lost checks (rows vs distinct ids)',
          `${e2e.lost} (${fmt(e2e.rows)} / ${fmt(e2e.idsSent)})`,
          '0',
          verdict(zeroLost),
        ],
        ['POST /callback p50 under load (ms)', fmt(e2e.p50, 1), '', ''],
        [
          'POST /callback p99 under load (ms)',
          fmt(e2e.p99, 1),
          '< 50',
          verdict(e2e.p99 < TARGETS.callbackP99Ms),
        ],
      ],
    );
  } finally {
    await backends.close();
    await cleanUp();
  }
}

runBenchmark(main, cleanUp);
