import { readFile } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

/** `--input`: JSON inline, `@path` for a file, `@-` for standard input. */
export async function readJsonInput(argument: string, option = '--input'): Promise<unknown> {
  let text = argument;
  let source = option;
  if (argument.startsWith('@')) {
    const path = argument.slice(1);
    source = path === '-' ? 'standard input' : path;
    try {
      text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `${option}: cannot read ${source}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch (error) {
    throw new UsageError(
      `${option} must be JSON, or @file holding JSON (${source}: ${error instanceof Error ? error.message : error})`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
