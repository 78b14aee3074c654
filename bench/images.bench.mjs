// Benchmark: image-resize jobs end to end (upload → result ready) against bare sharp.
//
//   cd /work/main && npx tsc -b services/producer services/consumer && node bench/images.bench.mjs
//
// Options: --concurrency 2,4     IMAGE_CONCURRENCY of the consumer runs (SHARP_THREADS=1 always)
//          --images N            images per pipeline run (default: the bare sharp rate × 6 s, 100..1500)
//          --bare-seconds S      length of each bare sharp measurement (default 10)
//          --clients C           concurrent keep-alive upload clients (default 4)
//          --max-seconds S       bound of one pipeline run, from its first upload (default 90)
//          --profile DIR         diagnosis: run producer and consumer under `node --cpu-prof`, profiles in DIR
//          --cases 100,800       only these cases (by output width) while iterating (default: both)
//          --resizes N           IMAGE_RESIZES_AT_ONCE of the consumer (default: the consumer's, the number of CPUs)
//
// Cases: a 1920×1080 photo-like JPEG (bench/.data, from sharp-baseline.mjs) resized to 100×100 and
// to 800×600, cover, JPEG out with mozjpeg (the job's encoder, see
// packages/kind-image-resize/src/domain/output-format.ts).
//
// Phases:
//   0. Upload memory: producer alone, 8 clients upload a 20 MB file (the 4000×3000 photo padded
//      with junk after its end; the format is sniffed from the first bytes) 24 times. The
//      producer's peak RSS (VmHWM of /proc/<pid>/status, reset through /proc/<pid>/clear_refs)
//      against the 160 MB in flight shows whether uploads are streamed to storage.
//   1. Per case: bare sharp in this process (measureBareSharp, 4 in flight, sharp.concurrency(1)
//      and cache off like the consumer), then per IMAGE_CONCURRENCY a fresh consumer process, a
//      warm-up, and N uploads from C clients as fast as they go. Completion is read from the jobs
//      table every 200 ms; images/s = N / (first upload → last finished_at). Evidence per run: CPU
//      per process from /proc (ms of CPU per image, next to bare sharp's), the producer's and
//      consumer's peak RSS, the consumer's /metrics (delivery → ack), the jobs' own timestamps
//      (queue wait, started → finished), PostgreSQL commits / WAL syncs / row writes and the job
//      events published per image.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random>, STORAGE_ROOT
// a temporary folder; all deleted at the end, every child process killed, on error and Ctrl-C too.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { argument, flag, numberList } from './lib/args.mjs';
import {
  connectBackends,
  jobCounts,
  parkedMessages,
  pgCounters,
  versionsLine,
  waitForEmptyOutbox,
} from './lib/backends.mjs';
import { cpuGroups, cpuSnapshot, CPU_COUNT, formatCpu, threadDelta, threadTicks } from './lib/cpu.mjs';
import { closedLoop, freePort, opsAgent, send } from './lib/http.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { metricSum, scrapeOrEmpty as scrape } from './lib/metrics.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import {
  assertAlive,
  assertBuilt,
  startService as start,
  stopService,
  waitForStatus,
  waitForSubscriber,
} from './lib/services.mjs';
import { counterDelta, percentile, steadyRate } from './lib/stats.mjs';
import { measureBareSharp, readBenchJpeg } from './sharp-baseline.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

const CONCURRENCIES = numberList('concurrency', [2, 4], { integers: true });
const FIXED_IMAGES =
  argument('images') === undefined ? undefined : numberList('images', [], { integers: true })[0];
const BARE_SECONDS = numberList('bare-seconds', [10], { integers: true })[0];
const CLIENTS = numberList('clients', [4], { integers: true })[0];
const MAX_SECONDS = numberList('max-seconds', [90], { integers: true })[0];
/** --profile DIR: producer and consumer run under `node --cpu-prof`, their profiles written to DIR (diagnosis only). */
const PROFILE_DIR = flag('profile') ? resolve(argument('profile') ?? '/tmp') : undefined;
const RESIZES_AT_ONCE = numberList('resizes', [], { integers: true })[0];
const SHARP_THREADS = 1;
const BARE_IN_FLIGHT = 4;
const POLL_MS = 200;
/**
 * Pipeline ÷ bare sharp, per case. A thumbnail is so cheap to make that the durable upload alone
 * costs more than a fifth of it: its target is 50 % (the issue that retired the old 80 %).
 */
const ALL_CASES = [
  { name: '1080p → 100×100', width: 100, height: 100, target: 0.5 },
  { name: '1080p → 800×600', width: 800, height: 600, target: 0.8 },
];
const CASE_WIDTHS = numberList(
  'cases',
  ALL_CASES.map((c) => c.width),
  { integers: true },
);
const CASES = ALL_CASES.filter((c) => CASE_WIDTHS.includes(c.width));
if (CASES.length === 0) {
  console.error(`--cases takes output widths among ${ALL_CASES.map((c) => c.width).join(', ')}`);
  process.exit(2);
}
const MEMORY_PHASE = { fileBytes: 20 * 1024 * 1024, clients: 8, uploads: 24 };

/** The stored images (originals and results) go to a temporary STORAGE_ROOT of this run. */
const CORNER = isolate({ storage: 'images-bench' });
const { prefix: PREFIX, schema: SCHEMA, databaseUrl: DATABASE_URL, storageRoot: STORAGE_ROOT } = CORNER;
const NAMES = {
  imageQueue: CORNER.names.workQueue('job.image-resize'),
  deadLetterQueue: CORNER.names.deadLetterQueue,
  jobEventsQueue: CORNER.names.jobEventsQueue,
  retryQueues: CORNER.names.retryQueues,
};
/** The queues purged between runs (main keeps only those the services declared). */
const ALL_QUEUES = [
  ...CORNER.names.workQueues,
  NAMES.deadLetterQueue,
  NAMES.jobEventsQueue,
  ...NAMES.retryQueues,
];

const startService = (service, env) =>
  start(
    service,
    { ...CORNER.serviceEnv, IMAGE_STORE: 'local', IMAGE_BUCKET: 'images', ...env },
    PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
  );

const mib = (bytes) => `${fmt(bytes / 1024 / 1024, 0)} MiB`;

// ---------------------------------------------------------------------------------------------
// Memory from /proc

function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false if not allowed, and the peak then covers the process's life. */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Uploads

/** A multipart/form-data body built once and sent as is (no per-request encoding cost in the bench). */
function multipartBody(file, fields, fileName = 'photo.jpg') {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${fileName}"\r\ncontent-type: image/jpeg\r\n\r\n`,
    ),
  );
  parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** `count` uploads from `clients` keep-alive clients, back to back; collects the job ids and latencies. */
async function uploadAll(port, form, count, clients) {
  const ids = [];
  const result = await closedLoop({
    count,
    clients,
    maxSeconds: MAX_SECONDS,
    call: (agent) =>
      send(agent, port, 'POST', '/v1/images', {
        body: form.body,
        headers: { 'content-type': form.contentType },
        timeoutMs: 30_000,
      }),
    onAccepted: ({ body }) => ids.push(JSON.parse(body).id),
  });
  return { ids, ...result };
}

// ---------------------------------------------------------------------------------------------
// Between runs

/** Empties the queues, the job tables and the stored images (originals and results). */
async function reset(db, channel) {
  for (const queue of ALL_QUEUES) await channel.purgeQueue(queue).catch(() => undefined);
  await db.query(`truncate "${SCHEMA}".job_events, "${SCHEMA}".outbox, "${SCHEMA}".jobs cascade`);
  for (const folder of ['originals', 'results'])
    rmSync(join(STORAGE_ROOT, 'images', folder), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Phase 0: upload memory

async function uploadMemory(producer, producerPort, db, channel) {
  const photo = await readBenchJpeg(4000, 3000);
  const padded = Buffer.concat([photo, Buffer.alloc(MEMORY_PHASE.fileBytes - photo.length, 0x5a)]);
  const form = multipartBody(padded, { width: '100', height: '100', format: 'jpeg' }, 'padded.jpg');
  const before = memoryOf(producer.pid);
  const reset_ = resetPeak(producer.pid);
  const groups = cpuGroups({ producer });
  const cpuBefore = cpuSnapshot(groups);
  const result = await uploadAll(producerPort, form, MEMORY_PHASE.uploads, MEMORY_PHASE.clients);
  const cpu = cpuSnapshot(groups).usageSince(cpuBefore);
  const after = memoryOf(producer.pid);
  assertAlive(producer);
  await waitForEmptyOutbox(db, SCHEMA);
  await reset(db, channel);
  return {
    ...result,
    before,
    after,
    peakReset: reset_,
    cpu,
    inFlightBytes: MEMORY_PHASE.clients * padded.length,
    fileBytes: padded.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 1: bare sharp, then the pipeline

async function bare(input, testCase) {
  const groups = cpuGroups({});
  const cpuBefore = cpuSnapshot(groups);
  const run = await measureBareSharp({
    input,
    width: testCase.width,
    height: testCase.height,
    inFlight: BARE_IN_FLIGHT,
    seconds: BARE_SECONDS,
    jpeg: { mozjpeg: true },
  });
  const cpu = cpuSnapshot(groups).usageSince(cpuBefore);
  return { ...run, cpu };
}

async function pipelineRun({ producer, producerPort, db, channel, input, testCase, concurrency, images }) {
  const opsPort = await freePort();
  const consumer = startService('consumer', {
    OPS_PORT: String(opsPort),
    IMAGE_CONCURRENCY: String(concurrency),
    SHARP_THREADS: String(SHARP_THREADS),
    ...(RESIZES_AT_ONCE ? { IMAGE_RESIZES_AT_ONCE: String(RESIZES_AT_ONCE) } : {}),
  });
  const form = multipartBody(input, {
    width: String(testCase.width),
    height: String(testCase.height),
    fit: 'cover',
    format: 'jpeg',
  });
  try {
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    await waitForSubscriber(channel, NAMES.imageQueue, 'the consumer', 'the image-resize queue');
    // Warm-up (JIT, pools, first sharp calls), then wiped.
    const warm = await uploadAll(producerPort, form, Math.max(8, 2 * concurrency), CLIENTS);
    const warmDeadline = Date.now() + 60_000;
    while ((await jobCounts(db, SCHEMA)).other > 0 && Date.now() < warmDeadline) await sleep(POLL_MS);
    if (warm.failures > 0) throw new Error(`warm-up uploads failed: ${warm.firstFailure}`);
    await waitForEmptyOutbox(db, SCHEMA);
    await reset(db, channel);

    const groups = cpuGroups({ producer, consumer });
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db, SCHEMA);
    const peakReset = resetPeak(producer.pid) && resetPeak(consumer.pid);
    const rssBefore = { producer: memoryOf(producer.pid), consumer: memoryOf(consumer.pid) };
    const threadsBefore = { producer: threadTicks(producer.pid), consumer: threadTicks(consumer.pid) };
    const cpuBefore = cpuSnapshot(groups);

    let finished = { succeeded: 0, failed: 0, other: 0 };
    let polling = true;
    let loopP99Max = 0;
    const poller = (async () => {
      let tick = 0;
      while (polling) {
        finished = await jobCounts(db, SCHEMA);
        if (tick % 5 === 0)
          loopP99Max = Math.max(
            loopP99Max,
            metricSum(await scrape(opsPort), 'nodejs_eventloop_lag_p99_seconds'),
          );
        tick += 1;
        await sleep(POLL_MS);
      }
    })();

    const upload = await uploadAll(producerPort, form, images, CLIENTS);
    const producerPeakDuringUploads = memoryOf(producer.pid).peak;
    const cpuUploads = cpuSnapshot(groups).usageSince(cpuBefore);
    const deadline = upload.startedAtEpoch + MAX_SECONDS * 1000;
    while (finished.succeeded + finished.failed < upload.accepted && Date.now() < deadline) {
      assertAlive(consumer);
      await sleep(POLL_MS);
    }
    const cpu = cpuSnapshot(groups).usageSince(cpuBefore);
    const threads = {
      producer: threadDelta(threadsBefore.producer, threadTicks(producer.pid)),
      consumer: threadDelta(threadsBefore.consumer, threadTicks(consumer.pid)),
    };
    polling = false;
    await poller;
    const metricsAfter = await scrape(opsPort);
    const consumerPeak = memoryOf(consumer.pid).peak;

    const { rows } = await db.query(
      `select id, extract(epoch from created_at) * 1000 as created, extract(epoch from started_at) * 1000 as started,
              extract(epoch from finished_at) * 1000 as finished, attempts
         from "${SCHEMA}".jobs where status = 'succeeded' order by finished_at`,
    );
    const finishes = rows.map((r) => Number(r.finished));
    const lastFinish = finishes.at(-1) ?? NaN;
    const elapsedSeconds = (lastFinish - upload.startedAtEpoch) / 1000;
    const sorted = (values) => values.sort((a, b) => a - b);
    const latencies = sorted(rows.map((r) => Number(r.finished) - Number(r.created)));
    const runTimes = sorted(rows.map((r) => Number(r.finished) - Number(r.started)));
    const queueWaits = sorted(rows.map((r) => Number(r.started) - Number(r.created)));
    const mean = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

    const label = `queue="${NAMES.imageQueue}"`;
    const delta = (name) => metricSum(metricsAfter, name, label) - metricSum(metricsBefore, name, label);
    const processed = delta('conveyor_message_processing_seconds_count');
    const deliveryToAckMs =
      (1000 * delta('conveyor_message_processing_seconds_sum')) / Math.max(1, processed);

    // A few results downloaded and decoded: the right size, and really JPEG.
    let verified = 0;
    for (const row of rows.slice(0, 3)) {
      const { status, body } = await send(opsAgent, producerPort, 'GET', `/v1/jobs/${row.id}/result`, {
        binary: true,
        timeoutMs: 30_000,
      });
      const meta = status === 200 ? await sharp(body).metadata() : {};
      if (meta.format === 'jpeg' && meta.width === testCase.width && meta.height === testCase.height)
        verified += 1;
    }

    await waitForEmptyOutbox(db, SCHEMA);
    await sleep(1000); // let the backends flush their table statistics
    const pgUse = counterDelta(pgBefore, await pgCounters(db, SCHEMA));
    const events = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;
    const { deadLettered, retried } = await parkedMessages(channel, NAMES);

    return {
      testCase,
      concurrency,
      images,
      upload,
      succeeded: rows.length,
      failed: finished.failed,
      complete: rows.length === images && upload.accepted === images,
      imagesPerSecond: rows.length / elapsedSeconds,
      elapsedSeconds,
      steadyRate: steadyRate(finishes),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      queueWaitP50: percentile(queueWaits, 50),
      runMean: mean(runTimes),
      runP50: percentile(runTimes, 50),
      deliveryToAckMs,
      processed,
      extraAttempts: rows.reduce((n, r) => n + (r.attempts - 1), 0),
      cpu,
      cpuUploads,
      threads,
      memory: { peakReset, rssBefore, producerPeakDuringUploads, consumerPeak },
      loopP99Max,
      pg: pgUse,
      events,
      retried,
      deadLettered,
      verified,
      logs: `${consumer.warnings}/${consumer.errors}`,
    };
  } finally {
    await stopService(consumer);
    await reset(db, channel).catch(() => undefined);
  }
}

const cleanUp = cleanUpOnce(CORNER);

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  assertBuilt(['producer', 'consumer'], 'npx tsc -b services/producer services/consumer');
  // The bare loop runs like the consumer's resizes: one libvips thread per image, no operation cache.
  sharp.concurrency(SHARP_THREADS);
  sharp.cache(false);
  console.log(
    `Image-resize benchmark — prefix ${PREFIX}, schema ${SCHEMA}, STORAGE_ROOT ${STORAGE_ROOT}; ${CPU_COUNT} cores, node ${process.version}, ` +
      `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, SHARP_THREADS ${SHARP_THREADS}, IMAGE_CONCURRENCY ${CONCURRENCIES.join(',')}, ` +
      `IMAGE_RESIZES_AT_ONCE ${RESIZES_AT_ONCE ?? `default (${CPU_COUNT})`}, ${CLIENTS} upload clients`,
  );
  if (PROFILE_DIR)
    console.log(
      `Profiling: producer and consumer run under node --cpu-prof (slower), profiles in ${PROFILE_DIR}`,
    );

  const backends = await connectBackends(DATABASE_URL, {
    onChannelError: (error) => log(`probe channel error: ${error.message}`),
  });
  const { connection, channel, db } = backends;
  try {
    console.log(await versionsLine(backends, { synchronousCommit: true }));

    const input = await readBenchJpeg(1920, 1080);
    const producerPort = await freePort();
    const producer = startService('producer', {
      PORT: String(producerPort),
      OPS_PORT: String(await freePort()),
    });
    await waitForStatus(producer, producerPort, '/readyz', 200);
    // The producer declares the topology when it starts; a consumer started once declares the rest (queues purged by reset).
    {
      const opsPort = await freePort();
      const consumer = startService('consumer', { OPS_PORT: String(opsPort) });
      await waitForStatus(consumer, opsPort, '/readyz', 200);
      await stopService(consumer);
    }
    // Purging a queue that does not exist would close the probe channel: keep only the declared ones.
    for (const queue of [...ALL_QUEUES]) {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      const exists = await probe.checkQueue(queue).then(
        () => true,
        () => false,
      );
      if (exists) await probe.close().catch(() => undefined);
      else ALL_QUEUES.splice(ALL_QUEUES.indexOf(queue), 1);
    }

    // 0. Upload memory
    log(
      `phase 0: producer alone, ${MEMORY_PHASE.uploads} uploads of ${mib(MEMORY_PHASE.fileBytes)} from ${MEMORY_PHASE.clients} clients`,
    );
    const memory = await uploadMemory(producer, producerPort, db, channel);
    log(
      `uploads: ${memory.accepted}/${MEMORY_PHASE.uploads} accepted (${memory.failures} failed${memory.firstFailure ? `: ${memory.firstFailure}` : ''}) in ${fmt(memory.seconds, 1)} s, ` +
        `${fmt((memory.accepted * memory.fileBytes) / 1024 / 1024 / memory.seconds)} MiB/s; producer RSS ${mib(memory.before.rss)} before, peak ${mib(memory.after.peak)}` +
        `${memory.peakReset ? '' : ' (peak since start: clear_refs not allowed)'}; CPU: ${formatCpu(memory.cpu.percent)}`,
    );

    // 1. Per case: bare sharp, then the pipeline at each IMAGE_CONCURRENCY
    const bares = [];
    const runs = [];
    for (const testCase of CASES) {
      log(`bare sharp, ${testCase.name}, ${BARE_IN_FLIGHT} in flight, mozjpeg, ${BARE_SECONDS} s`);
      const b = await bare(input, testCase);
      bares.push({ testCase, ...b });
      log(
        `bare ${testCase.name}: ${fmt(b.imagesPerSecond, 1)} images/s, ${fmt(b.cpuMsPerImage, 1)} CPU ms/image; CPU: ${formatCpu(b.cpu.percent)}`,
      );
      const images = FIXED_IMAGES ?? Math.min(1500, Math.max(100, Math.round(b.imagesPerSecond * 6)));
      for (const concurrency of CONCURRENCIES) {
        log(
          `pipeline ${testCase.name}, IMAGE_CONCURRENCY=${concurrency}, ${images} images from ${CLIENTS} clients`,
        );
        const run = await pipelineRun({
          producer,
          producerPort,
          db,
          channel,
          input,
          testCase,
          concurrency,
          images,
        });
        run.bareRate = b.imagesPerSecond;
        run.bareCpuMs = b.cpuMsPerImage;
        runs.push(run);
        log(
          `pipeline ${testCase.name} c=${concurrency}: ${fmt(run.imagesPerSecond, 1)} images/s (${run.succeeded}/${images} in ${fmt(run.elapsedSeconds, 1)} s, steady ${fmt(run.steadyRate, 1)}/s) = ` +
            `${fmt((100 * run.imagesPerSecond) / b.imagesPerSecond, 1)} % of bare; uploads ${fmt(run.upload.rate, 1)}/s; CPU: ${formatCpu(run.cpu.percent)}`,
        );
        if (run.upload.firstFailure) log(`first upload failure: ${run.upload.firstFailure}`);
        assertAlive(producer);
      }
    }

    // ------------------------------------------------------------------- tables
    printTable(
      `Bare sharp (this process, ${BARE_IN_FLIGHT} in flight, sharp.concurrency(${SHARP_THREADS}), cache off, jpeg mozjpeg)`,
      [
        'Case',
        'images/s',
        'CPU ms/image',
        `wall ms/image (${BARE_IN_FLIGHT} in flight)`,
        'CPU % bench / postgres / rabbitmq / others / machine',
      ],
      bares.map((b) => [
        b.testCase.name,
        fmt(b.imagesPerSecond, 1),
        fmt(b.cpuMsPerImage, 1),
        fmt((1000 * BARE_IN_FLIGHT) / b.imagesPerSecond, 1),
        `${fmt(b.cpu.percent.bench)} / ${fmt(b.cpu.percent.postgres)} / ${fmt(b.cpu.percent.rabbitmq)} / ${fmt(b.cpu.percent.others)} / ${fmt(b.cpu.percent.machine)} of ${CPU_COUNT * 100}`,
      ]),
    );

    const name = (r) => `${r.testCase.name}, c=${r.concurrency}`;
    printTable(
      `Pipeline (one producer, one consumer, ${CLIENTS} upload clients, SHARP_THREADS=${SHARP_THREADS})`,
      [
        'Case, IMAGE_CONCURRENCY',
        'images/s',
        'steady/s',
        'bare/s',
        'ratio',
        'done',
        'uploads/s',
        'upload p50 / p99 ms',
        'e2e p50 / p99 ms',
        'queue wait p50 ms',
        'run mean ms',
        'delivery→ack ms',
        'results checked',
      ],
      runs.map((r) => [
        name(r),
        fmt(r.imagesPerSecond, 1),
        fmt(r.steadyRate, 1),
        fmt(r.bareRate, 1),
        `${fmt((100 * r.imagesPerSecond) / r.bareRate, 1)} %`,
        `${r.succeeded}/${r.images}${r.complete ? '' : ' (cut)'}`,
        fmt(r.upload.rate, 1),
        `${fmt(r.upload.p50, 1)} / ${fmt(r.upload.p99, 1)}`,
        `${fmt(r.p50)} / ${fmt(r.p99)}`,
        fmt(r.queueWaitP50),
        fmt(r.runMean, 1),
        fmt(r.deliveryToAckMs, 1),
        `${r.verified}/3`,
      ]),
    );

    printTable(
      'Where the time goes: CPU in % of one core over first upload → last finish, and CPU ms per finished image',
      [
        'Case, IMAGE_CONCURRENCY',
        'producer',
        'consumer',
        'postgres',
        'rabbitmq',
        'bench',
        'irq',
        'others',
        'machine',
        'ms/img producer',
        'ms/img consumer (bare)',
        'ms/img pg + mq',
        'ms/img all ours',
        'bare / ours (CPU-bound ratio)',
        'loop p99 max ms',
      ],
      runs.map((r) => {
        const per = (ms) => ms / Math.max(1, r.succeeded);
        const ours =
          r.cpu.ms.producer +
          r.cpu.ms.consumer +
          r.cpu.ms.postgres +
          r.cpu.ms.rabbitmq +
          r.cpu.ms.bench +
          r.cpu.ms.irq;
        return [
          name(r),
          fmt(r.cpu.percent.producer),
          fmt(r.cpu.percent.consumer),
          fmt(r.cpu.percent.postgres),
          fmt(r.cpu.percent.rabbitmq),
          fmt(r.cpu.percent.bench),
          fmt(r.cpu.percent.irq),
          fmt(r.cpu.percent.others),
          `${fmt(r.cpu.percent.machine)} / ${CPU_COUNT * 100}`,
          fmt(per(r.cpu.ms.producer), 1),
          `${fmt(per(r.cpu.ms.consumer), 1)} (${fmt(r.bareCpuMs, 1)})`,
          fmt(per(r.cpu.ms.postgres + r.cpu.ms.rabbitmq), 1),
          fmt(per(ours), 1),
          `${fmt((100 * r.bareCpuMs) / per(ours), 0)} %`,
          fmt(r.loopP99Max * 1000, 1),
        ];
      }),
    );

    const threadGroups = (service) => [...new Set(runs.flatMap((r) => Object.keys(r.threads[service])))];
    for (const service of ['consumer', 'producer']) {
      const groups = threadGroups(service).filter((g) =>
        runs.some((r) => r.threads[service][g] / Math.max(1, r.succeeded) >= 0.05),
      );
      printTable(
        `${service[0].toUpperCase()}${service.slice(1)} CPU ms per finished image, by thread (main = event loop: JS, HTTP, pg, amqp; node = libuv pool (sharp's decode/encode calls, fs) and V8 GC/compiler threads; libvips worker = libvips's own pipeline threads)`,
        ['Case, IMAGE_CONCURRENCY', ...groups, 'total'],
        runs.map((r) => {
          const per = (ms) => fmt(ms / Math.max(1, r.succeeded), 1);
          return [
            name(r),
            ...groups.map((g) => per(r.threads[service][g] ?? 0)),
            per(Object.values(r.threads[service]).reduce((a, b) => a + b, 0)),
          ];
        }),
      );
    }

    printTable(
      'Per image: PostgreSQL and RabbitMQ work (whole run, producer + consumer)',
      [
        'Case, IMAGE_CONCURRENCY',
        'commits',
        'WAL syncs',
        'WAL kB',
        'jobs upd',
        'job_events ins',
        'outbox ins / del',
        'job events published',
        'retried / dead / extra attempts',
        'warn/error logs',
      ],
      runs.map((r) => {
        const per = (n) => fmt(n / Math.max(1, r.succeeded), 2);
        const row = (table) => r.pg.rows[table] ?? { ins: 0, upd: 0, del: 0 };
        return [
          name(r),
          per(r.pg.commits),
          per(r.pg.walSyncs),
          per(r.pg.walBytes / 1024),
          per(row('jobs').upd),
          per(row('job_events').ins),
          `${per(row('outbox').ins)} / ${per(row('outbox').del)}`,
          per(r.events),
          `${r.retried} / ${r.deadLettered} / ${r.extraAttempts}`,
          r.logs,
        ];
      }),
    );

    printTable(
      'Memory (VmHWM from /proc/<pid>/status, peak reset before each measurement)',
      ['Phase', 'producer RSS before', 'producer peak', 'consumer peak', 'uploaded', 'in flight at once'],
      [
        [
          `upload only, ${MEMORY_PHASE.clients} × ${mib(memory.fileBytes)} files`,
          mib(memory.before.rss),
          mib(memory.after.peak),
          '—',
          mib(memory.accepted * memory.fileBytes),
          mib(memory.inFlightBytes),
        ],
        ...runs.map((r) => [
          name(r),
          mib(r.memory.rssBefore.producer.rss),
          mib(r.memory.producerPeakDuringUploads),
          mib(r.memory.consumerPeak),
          mib(r.upload.accepted * input.length),
          mib(CLIENTS * input.length),
        ]),
      ],
    );

    const noisy = [
      ...bares.map((b) => [`bare ${b.testCase.name}`, b.cpu.percent]),
      ...runs.map((r) => [name(r), r.cpu.percent]),
    ].filter(([, cpu]) => cpu.others > 20);
    if (noisy.length > 0) {
      console.log(
        `\nWARNING: other processes on this machine used CPU during the run (${noisy.map(([phase, cpu]) => `${phase}: ${fmt(cpu.others)}% of a core`).join(', ')}); images/s are lower than on an idle machine, and bare vs pipeline compare only if both saw the same load.`,
      );
    }
    console.log(`service warn/error log lines: producer ${producer.warnings}/${producer.errors}`);

    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const memoryGrowth = memory.after.peak - memory.before.rss;
    const summary = [];
    for (const testCase of CASES) {
      const caseRuns = runs.filter((r) => r.testCase === testCase);
      for (const r of caseRuns) {
        const ratio = r.imagesPerSecond / r.bareRate;
        summary.push([
          `${name(r)}: pipeline / bare sharp`,
          `${fmt(r.imagesPerSecond, 1)} / ${fmt(r.bareRate, 1)} = ${fmt(100 * ratio, 1)} %`,
          `≥ ${fmt(100 * r.testCase.target)} %`,
          verdict(r.complete && ratio >= r.testCase.target),
        ]);
      }
    }
    const allDone = runs.every((r) => r.complete && r.failed === 0 && r.verified === 3);
    summary.push([
      'Every image succeeded, results decoded right',
      allDone ? 'yes' : runs.map((r) => `${r.succeeded}/${r.images}`).join(', '),
      'yes',
      verdict(allDone),
    ]);
    summary.push([
      `Producer peak RSS growth, uploading ${MEMORY_PHASE.clients} × ${mib(memory.fileBytes)} at once`,
      `${mib(memoryGrowth)} (peak ${mib(memory.after.peak)})`,
      `< ${mib(memory.inFlightBytes / 2)} (half of what is in flight)`,
      verdict(
        memory.accepted === MEMORY_PHASE.uploads &&
          memory.peakReset &&
          memoryGrowth < memory.inFlightBytes / 2,
      ),
    ]);
    printTable('Summary', ['Figure', 'Measured', 'Target', 'Result'], summary);
  } finally {
    await backends.close();
    await cleanUp();
  }
}

runBenchmark(main, cleanUp);
