import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JOB_STATUSES } from '../jobs/job-status.js';
import type { Argv } from 'yargs';
import type { Job } from '../jobs/job-kinds.js';
import type { CliContext } from './cli-context.js';
import { exitCodeOfStatus, UsageError } from './exit-codes.js';
import { readJsonInput } from './json-input.js';
import { jobDetail, jobTable } from './output.js';
import { progressDisplay } from './progress-display.js';

type Context = (argv: object) => CliContext;

/** `conveyor jobs …`: submit, get, list, watch, cancel, retry, events, result. */
export function jobsCommands(yargs: Argv, context: Context): Argv {
  return yargs
    .command(
      'submit <kind>',
      'submit a job; with --wait, follow it to its end (exit 0, 1 failed, 3 cancelled)',
      (y) =>
        y
          .positional('kind', { type: 'string', demandOption: true, describe: 'job kind, e.g. factorize' })
          .option('input', {
            type: 'string',
            demandOption: true,
            describe: 'JSON input, @file or @- (stdin)',
          })
          .option('custom-id', {
            type: 'string',
            describe: 'your own id; the same request with it returns the same job',
          })
          .option('callback-url', { type: 'string', describe: 'where status changes are pushed (signed)' })
          .option('run-at', { type: 'string', describe: 'run at this time (RFC 3339), not now' })
          .option('delay-ms', { type: 'number', describe: 'run this many ms from now' })
          .option('timeout-ms', { type: 'number', describe: "this job's timeout, at most its kind's" })
          .option('max-attempts', {
            type: 'number',
            describe: "this job's most attempts, at most its kind's",
          })
          .option('idempotency-key', {
            type: 'string',
            describe: 'repeat-safe: the same key and input get the first answer again',
          })
          .option('wait', {
            type: 'boolean',
            default: false,
            describe: 'wait for the job to finish, showing progress',
          }),
      async (argv) => {
        const ctx = context(argv);
        const input = await readJsonInput(argv.input);
        const job = await ctx.client.submit(argv.kind, input, {
          customId: argv.customId,
          callbackUrl: argv.callbackUrl,
          runAt: argv.runAt,
          delayMs: argv.delayMs,
          timeoutMs: argv.timeoutMs,
          maxAttempts: argv.maxAttempts,
          idempotencyKey: argv.idempotencyKey,
        });
        if (!argv.wait) return ctx.out.result(job, jobDetail);
        await follow(ctx, job);
      },
    )
    .command(
      'get <id>',
      'show a job',
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.get(argv.id), jobDetail);
      },
    )
    .command(
      'list',
      'list jobs, newest first',
      (y) =>
        y
          .option('status', { choices: JOB_STATUSES, describe: 'only jobs in this status' })
          .option('kind', { type: 'string', describe: 'only jobs of this kind' })
          .option('custom-id', { type: 'string', describe: 'the job with this customId' })
          .option('client-id', { type: 'string', describe: "operators: one client's jobs" })
          .option('limit', {
            type: 'number',
            default: 20,
            describe: 'most jobs shown (fetched page by page)',
          }),
      async (argv) => {
        const ctx = context(argv);
        if (!Number.isInteger(argv.limit) || argv.limit < 1)
          throw new UsageError('--limit must be a positive integer');
        const jobs: Job[] = [];
        for await (const job of ctx.client.list({
          status: argv.status,
          kind: argv.kind,
          customId: argv.customId,
          clientId: argv.clientId,
          pageSize: Math.min(argv.limit, 100),
        })) {
          jobs.push(job);
          if (jobs.length >= argv.limit) break;
        }
        ctx.out.result(jobs, (list) => (list.length === 0 ? 'no jobs' : jobTable(list)));
      },
    )
    .command(
      'watch <id>',
      'follow a job to its end with a progress display (exit 0, 1 failed, 3 cancelled)',
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        await follow(ctx, argv.id);
      },
    )
    .command(
      'cancel <id>',
      'cancel a job (a running one stops at its next check)',
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.cancel(argv.id), jobDetail);
      },
    )
    .command(
      'retry <id>',
      'run a failed or cancelled job again',
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.retry(argv.id), jobDetail);
      },
    )
    .command(
      'events <id>',
      "a job's history: status changes, progress and webhook attempts",
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.events(argv.id), (history) =>
          history.entries
            .map((entry) => {
              switch (entry.type) {
                case 'status':
                  return `${entry.at}  #${entry.sequence} ${entry.status} (attempt ${entry.attempt})${entry.error ? ` ${entry.error.code}: ${entry.error.message}` : ''}`;
                case 'progress':
                  return `${entry.at}  #${entry.sequence} progress ${Math.round(entry.progress.fraction * 100)}%${entry.progress.message ? ` ${entry.progress.message}` : ''}`;
                case 'delivery':
                  return `${entry.at}  #${entry.sequence} webhook attempt ${entry.attempt} → ${entry.statusCode ?? entry.error ?? 'no answer'} (${entry.latencyMs} ms)`;
              }
            })
            .join('\n'),
        );
      },
    )
    .command(
      'result <id>',
      "a succeeded job's result: JSON, or the file (an image) written to -o",
      (y) =>
        y
          .positional('id', { type: 'string', demandOption: true })
          .option('output', { alias: 'o', type: 'string', describe: 'file to write the result to' }),
      async (argv) => {
        const ctx = context(argv);
        const result = await ctx.client.result(argv.id);
        if (result.type === 'json') {
          if (argv.output === undefined)
            return ctx.out.result(result.value, (value) => JSON.stringify(value, null, 2));
          await pipeline(
            Readable.from([`${JSON.stringify(result.value, null, 2)}\n`]),
            createWriteStream(argv.output),
          );
          return ctx.out.result(
            { file: argv.output, contentType: 'application/json' },
            (written) => `wrote ${written.file}`,
          );
        }
        if (argv.output === undefined) {
          await result.stream.cancel();
          throw new UsageError(
            `job ${argv.id}'s result is a file (${result.contentType}): name one with -o <file>`,
          );
        }
        await pipeline(Readable.fromWeb(result.stream), createWriteStream(argv.output));
        ctx.out.result(
          { file: argv.output, contentType: result.contentType, bytes: result.contentLength },
          (written) => `wrote ${written.file} (${written.contentType}, ${written.bytes ?? '?'} bytes)`,
        );
      },
    )
    .demandCommand(1, 'name a jobs command');
}

/** Waits for a job with a progress display, prints it, and exits by its outcome. */
async function follow(ctx: CliContext, job: Job | string): Promise<void> {
  const display = progressDisplay(process.stdout, { json: ctx.out.json });
  let final: Job;
  try {
    final = await ctx.client.wait(typeof job === 'string' ? job : job.id, {
      signal: ctx.signal,
      onProgress: (_progress, seen) => display.update(seen),
    });
  } finally {
    display.stop();
  }
  ctx.out.result(final, jobDetail);
  ctx.exitWith(exitCodeOfStatus(final.status));
}
