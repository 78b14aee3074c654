#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './exit-codes.js';
import { runCli } from './run-cli.js';

// Ctrl-C stops a wait cleanly (exit 130, the terminal restored); a second one exits at once.
const interrupt = new AbortController();
process.once('SIGINT', () => {
  interrupt.abort();
  process.once('SIGINT', () => process.exit(ExitCode.interrupted));
});
process.exitCode = await runCli(hideBin(process.argv), interrupt.signal);
