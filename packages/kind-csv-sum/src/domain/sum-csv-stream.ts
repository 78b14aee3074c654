import { CsvColumnSummer } from './fast-scanner.js';
import type { CsvSumOptions, CsvSumResult } from './options.js';

export interface SumCsvStreamHooks {
  /** Checked between chunks; an abort throws signal.reason (an AbortError unless given). */
  signal?: AbortSignal;
  /** Called after each chunk with the bytes read so far. */
  onProgress?: (bytesRead: number) => void;
}

/** Sums every Nth column of a CSV byte stream with the fast scanner. */
export async function sumCsvStream(
  source: AsyncIterable<Uint8Array>,
  options: Partial<CsvSumOptions> = {},
  hooks: SumCsvStreamHooks = {},
): Promise<CsvSumResult> {
  const { signal, onProgress } = hooks;
  signal?.throwIfAborted();
  const summer = new CsvColumnSummer(options);
  for await (const chunk of source) {
    signal?.throwIfAborted();
    summer.push(chunk);
    onProgress?.(summer.bytesRead);
  }
  signal?.throwIfAborted();
  return summer.finish();
}
