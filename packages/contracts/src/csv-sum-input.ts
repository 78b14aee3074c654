import { z } from 'zod';

const common = {
  /** Sum columns every, 2·every, … counted from 1. Default 10. */
  every: z.number().int().min(1).max(10_000).default(10),
  delimiter: z.enum([',', ';', '\t']).default(','),
  /** The first row names the columns. Default true. */
  header: z.boolean().default(true),
};

/** `csv-sum` job input: a CSV file in S3-compatible storage or under the local STORAGE_ROOT. */
export const CsvSumInput = z.discriminatedUnion('storage', [
  z.strictObject({ storage: z.literal('s3'), bucket: z.string().min(1).max(255), key: z.string().min(1).max(1024), ...common }),
  z.strictObject({ storage: z.literal('local'), path: z.string().min(1).max(4096), ...common }),
]);
export type CsvSumInput = z.infer<typeof CsvSumInput>;

/** `csv-sum` job result: one entry per summed column, sums exact as decimal strings. */
export interface CsvSumResult {
  columns: { column: number; name: string | null; sum: string }[];
  rowsRead: number;
  bytesRead: number;
}
