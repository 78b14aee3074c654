import yargs from 'yargs';
import { ConveyorError } from '../http/errors.js';
import { cliContext, DEFAULT_URL, type CliContext, type GlobalOptions } from './cli-context.js';
import { clientCommands } from './clients.commands.js';
import { EXIT_CODES_HELP, ExitCode, exitCodeOfError, UsageError } from './exit-codes.js';
import { jobsCommands } from './jobs.commands.js';
import { deadLetterCommands, queueCommands, readCommands } from './operator.commands.js';

const ENVIRONMENT_HELP = `Environment:
  CONVEYOR_URL      the API (default ${DEFAULT_URL}, the producer's default PORT)
  CONVEYOR_API_KEY  the API key sent as "Authorization: Bearer <key>" (none when auth is off)`;

/** Runs one command line; resolves with the exit status. */
export async function runCli(args: readonly string[], signal: AbortSignal): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let json = args.includes('--json');
  const context = (argv: object): CliContext => {
    const options = globalOptionsOf(argv);
    json = options.json;
    return cliContext(options, signal, (code) => (exitCode = code));
  };
  const parser = yargs([...args])
    .scriptName('conveyor')
    .usage('$0 <command> [options]\n\nThe Conveyor job API from a terminal.')
    .env('CONVEYOR')
    .option('url', { type: 'string', default: DEFAULT_URL, describe: 'API base URL (CONVEYOR_URL)' })
    .option('api-key', { type: 'string', describe: 'API key (CONVEYOR_API_KEY)' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON (errors as JSON on stderr)' })
    .command('jobs', 'submit, follow and manage jobs', (y) => jobsCommands(y, context))
    .command('dead-letters', 'dead letters: list, get, redrive, purge (operator keys)', (y) =>
      deadLetterCommands(y, context),
    )
    .command('queues', 'queues, and pause|resume <kind> (operator keys)', (y) => queueCommands(y, context))
    .command('clients', 'API clients: create, rotate-secret', (y) => clientCommands(y, context));
  readCommands(parser, context)
    .completion('completion', 'print a shell completion script (zsh when $SHELL is zsh, else bash)')
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue(`${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}`)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (error) {
    process.stderr.write(json ? `${JSON.stringify({ error: errorJson(error) })}\n` : `${describe(error)}\n`);
    return exitCodeOfError(error);
  }
}

function globalOptionsOf(argv: object): GlobalOptions {
  const url = 'url' in argv && typeof argv.url === 'string' ? argv.url : DEFAULT_URL;
  const apiKey = 'apiKey' in argv && typeof argv.apiKey === 'string' ? argv.apiKey : undefined;
  const json = 'json' in argv && argv.json === true;
  return { url, apiKey, json };
}

function errorJson(error: unknown) {
  if (error instanceof ConveyorError)
    return {
      code: error.code,
      message: error.message,
      details: error.details,
      status: error.status,
      correlationId: error.correlationId ?? null,
    };
  return { code: codeOf(error), message: error instanceof Error ? error.message : String(error) };
}

function codeOf(error: unknown): string {
  if (error instanceof UsageError) return 'usage';
  if (error instanceof Error && error.name === 'ConveyorNetworkError') return 'network_error';
  if (error instanceof Error && error.name === 'AbortError') return 'interrupted';
  return 'internal_error';
}

function describe(error: unknown): string {
  if (error instanceof UsageError) return `conveyor: ${error.message}\n(conveyor --help lists the commands)`;
  if (!(error instanceof ConveyorError))
    return `conveyor: ${error instanceof Error ? error.message : String(error)}`;
  const lines = [`conveyor: ${error.code}: ${error.message}`];
  for (const detail of error.details) lines.push(`  ${detail.path}: ${detail.message}`);
  if (error.status === 401) lines.push('  set CONVEYOR_API_KEY (or --api-key) to a valid key');
  if (error.correlationId) lines.push(`  (HTTP ${error.status}, correlation id ${error.correlationId})`);
  return lines.join('\n');
}
