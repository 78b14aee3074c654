import type { Logger } from './logger.js';

/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdownSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('shutting down', { signal });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * Runs a service's start-up step; if it fails (a bad job module, a schema conflict in the
 * registry), logs why with the error's code and message and exits 1, instead of an unhandled
 * rejection an operator has to read a stack trace for.
 */
export async function orExit<T>(log: Logger, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    log.error(`${what} failed`, { error });
    process.exit(1);
  }
}
