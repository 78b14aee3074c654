import { ConveyorClient } from '../conveyor-client.js';
import { Output } from './output.js';

/** The producer's default PORT. */
export const DEFAULT_URL = 'http://localhost:9090';

export interface GlobalOptions {
  url: string;
  apiKey: string | undefined;
  json: boolean;
}

/** What every command works with, built from the global options. */
export interface CliContext {
  client: ConveyorClient;
  out: Output;
  /** Aborted on Ctrl-C, so a wait stops cleanly (exit 130). */
  signal: AbortSignal;
  /** The exit status once the command returns (a waited-for job's outcome). */
  exitWith(code: number): void;
}

export function cliContext(
  options: GlobalOptions,
  signal: AbortSignal,
  exitWith: (code: number) => void,
): CliContext {
  return {
    client: new ConveyorClient({ baseUrl: options.url, apiKey: options.apiKey || undefined }),
    out: new Output(options.json),
    signal,
    exitWith,
  };
}
