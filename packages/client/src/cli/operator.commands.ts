import type { DeadLetter, DeadLetterSelection, QueueList } from '@conveyor/contracts';
import type { Argv } from 'yargs';
import { JOB_STATUSES } from '../jobs/job-status.js';
import type { CliContext } from './cli-context.js';
import { UsageError } from './exit-codes.js';
import { table } from './output.js';

type Context = (argv: object) => CliContext;

/** `conveyor dead-letters …` (operator keys). */
export function deadLetterCommands(yargs: Argv, context: Context): Argv {
  const selection = (y: Argv) =>
    y
      .positional('ids', { type: 'string', array: true, describe: 'dead letter ids' })
      .option('kind', { type: 'string', describe: 'every dead letter of this kind' })
      .option('all', { type: 'boolean', default: false, describe: 'every dead letter' });
  return yargs
    .command(
      'list',
      'dead letters, newest first',
      (y) =>
        y
          .option('kind', { type: 'string', describe: 'only this kind (or object-check)' })
          .option('limit', { type: 'number', default: 50, describe: 'most shown' }),
      async (argv) => {
        const ctx = context(argv);
        const page = await ctx.client.deadLetters.page({ kind: argv.kind, limit: Math.min(argv.limit, 100) });
        ctx.out.result(page, (p) =>
          p.deadLetters.length === 0
            ? 'no dead letters'
            : `${deadLetterTable(p.deadLetters)}\n${p.deadLetters.length} of ${p.total}`,
        );
      },
    )
    .command(
      'get <id>',
      'a dead letter with its message',
      (y) => y.positional('id', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.deadLetters.get(argv.id), (letter) =>
          JSON.stringify(letter, null, 2),
        );
      },
    )
    .command(
      'redrive [ids..]',
      'send dead letters back to their work queue: ids, --kind or --all',
      selection,
      async (argv) => {
        const ctx = context(argv);
        const chosen = selectionOf(argv);
        const result =
          'ids' in chosen && chosen.ids.length === 1 && chosen.ids[0] !== undefined
            ? await ctx.client.deadLetters.redrive(chosen.ids[0])
            : await ctx.client.deadLetters.redrive(chosen);
        ctx.out.result(result, (r) => `redriven: ${r.redriven}`);
      },
    )
    .command(
      'purge [ids..]',
      'delete dead letters for good: ids, --kind or --all',
      selection,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.deadLetters.purge(selectionOf(argv)), (r) => `purged: ${r.purged}`);
      },
    )
    .demandCommand(1, 'name a dead-letters command');
}

function selectionOf(argv: {
  ids?: string[] | undefined;
  kind?: string | undefined;
  all: boolean;
}): DeadLetterSelection {
  const ids = argv.ids ?? [];
  const given = [ids.length > 0, argv.kind !== undefined, argv.all].filter(Boolean).length;
  if (given !== 1)
    throw new UsageError('choose the dead letters with exactly one of: ids, --kind <kind>, --all');
  if (ids.length > 0) return { ids };
  if (argv.kind !== undefined) return { kind: argv.kind };
  return { all: true };
}

function deadLetterTable(letters: readonly DeadLetter[]): string {
  return table(
    ['ID', 'KIND', 'JOB', 'REASON', 'ATTEMPTS', 'AT'],
    letters.map((letter) => [
      letter.id,
      letter.kind,
      letter.jobId ?? '-',
      `${letter.reason.code}: ${letter.reason.message}`.slice(0, 60),
      String(letter.attempts),
      letter.deadLetteredAt,
    ]),
  );
}

/** `conveyor queues [pause|resume <kind>]` (operator keys). */
export function queueCommands(yargs: Argv, context: Context): Argv {
  return yargs
    .command(
      '$0',
      'the queues with their backlog, consumers and whether paused',
      (y) => y,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.queues.list(), queueTable);
      },
    )
    .command(
      'pause <kind>',
      'stop consuming a kind (object-check or a job kind); its messages wait',
      (y) => y.positional('kind', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.queues.pause(argv.kind), (s) => `${s.kind} paused`);
      },
    )
    .command(
      'resume <kind>',
      'consume a paused kind again',
      (y) => y.positional('kind', { type: 'string', demandOption: true }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.queues.resume(argv.kind), (s) => `${s.kind} resumed`);
      },
    );
}

function queueTable(list: QueueList): string {
  return `${table(
    ['QUEUE', 'ROLE', 'MESSAGES', 'READY', 'UNACKED', 'CONSUMERS', 'PAUSED'],
    list.queues.map((queue) => [
      queue.name,
      queue.role,
      String(queue.messages),
      String(queue.ready ?? '-'),
      String(queue.unacked ?? '-'),
      String(queue.consumers),
      queue.paused ? 'yes' : '',
    ]),
  )}\n(figures from ${list.source})`;
}

/** `conveyor workers`, `conveyor stats` and `conveyor overview`. */
export function readCommands(yargs: Argv, context: Context): Argv {
  return yargs
    .command(
      'workers',
      'worker hosts, their kinds and jobs in flight (operator keys)',
      (y) => y,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.workers.list(), (list) =>
          list.workers.length === 0
            ? 'no worker hosts'
            : table(
                ['ID', 'HOST', 'PID', 'KINDS', 'IN FLIGHT', 'ALIVE', 'LAST HEARTBEAT'],
                list.workers.map((w) => [
                  w.id,
                  w.hostname,
                  String(w.pid),
                  w.kinds.join(','),
                  String(w.inFlight),
                  w.alive ? 'yes' : 'no',
                  w.lastHeartbeatAt,
                ]),
              ),
        );
      },
    )
    .command(
      'stats',
      'job counts per status and kind',
      (y) => y,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.stats(), (stats) =>
          [
            `in progress: ${stats.inProgress}`,
            table(
              ['KIND', ...JOB_STATUSES.map((status) => status.toUpperCase())],
              Object.entries(stats.byKind).map(([kind, counts]) => [
                kind,
                ...JOB_STATUSES.map((status) => String(counts[status] ?? 0)),
              ]),
            ),
          ].join('\n'),
        );
      },
    )
    .command(
      'overview',
      "every client's jobs and the backlogs (operator keys)",
      (y) => y,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.overview(), (overview) => JSON.stringify(overview, null, 2));
      },
    );
}
