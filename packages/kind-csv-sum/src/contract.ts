import { z } from 'zod';

const common = {
  /** Sum columns every, 2·every, … counted from 1. Default 10. */
  every: z.number().int().min(1).max(10_000).default(10),
  delimiter: z.enum([',', ';', '\t']).default(','),
  /** The first row names the columns. Default true. */
  header: z.boolean().default(true),
};

/** S3 keys are at most 1024 bytes of UTF-8. */
export const S3_KEY_MAX_BYTES = 1024;
/** Local paths are at most PATH_MAX (4096 bytes, its terminating NUL included); the storage root counts too. */
export const LOCAL_PATH_MAX_BYTES = 4095;

/**
 * A name that can be stored and sent: no NUL (PostgreSQL cannot store it, S3 refuses it) and no
 * lone UTF-16 surrogate (not encodable as UTF-8: PostgreSQL's jsonb refuses it too).
 */
function storableText(maxBytes: number) {
  return z
    .string()
    .min(1)
    .refine((text) => Buffer.byteLength(text) <= maxBytes, {
      message: `must be at most ${maxBytes} bytes in UTF-8`,
      abort: true,
    })
    .refine((text) => !text.includes('\0'), 'must not contain NUL characters')
    .refine((text) => !/\p{Surrogate}/u.test(text), 'must be valid Unicode (a lone surrogate was found)');
}

/**
 * S3's bucket naming rules (what CreateBucket enforces today): 3–63 characters, lowercase letters,
 * digits, dots and hyphens, a letter or digit at each end, no two dots in a row, not an IPv4
 * address. A name breaking them cannot be a bucket, so the job is refused at submit rather than
 * retried against a server that answers InvalidBucketName. (Legacy us-east-1 buckets created
 * before 2018 with uppercase or "_" cannot be read through this API.)
 */
export const S3BucketName = z
  .string()
  .min(3, 'S3 bucket names have 3 to 63 characters')
  .max(63, 'S3 bucket names have 3 to 63 characters')
  .regex(
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    'S3 bucket names use lowercase letters, digits, "." and "-", and start and end with a letter or digit',
  )
  .refine((name) => !name.includes('..'), 'S3 bucket names have no two dots in a row')
  .refine((name) => !/^\d+\.\d+\.\d+\.\d+$/.test(name), 'S3 bucket names are not IP addresses');

/** `csv-sum` job input: a CSV file in S3-compatible storage or under the local STORAGE_ROOT. */
export const CsvSumInput = z.discriminatedUnion('storage', [
  z.strictObject({
    storage: z.literal('s3'),
    bucket: S3BucketName,
    key: storableText(S3_KEY_MAX_BYTES),
    ...common,
  }),
  z.strictObject({ storage: z.literal('local'), path: storableText(LOCAL_PATH_MAX_BYTES), ...common }),
]);
export type CsvSumInput = z.infer<typeof CsvSumInput>;

/** `csv-sum` job result: one entry per summed column, sums exact as decimal strings. */
export const CsvSumResult = z.object({
  columns: z.array(
    z.object({
      /** 1-based column position. */
      column: z.number().int(),
      /** Header cell of the column, or null when the file has no header. */
      name: z.string().nullable(),
      sum: z.string(),
    }),
  ),
  /** Data rows, not counting the header or blank lines at the end of the file. */
  rowsRead: z.number().int(),
  bytesRead: z.number().int(),
});
export type CsvSumResult = z.infer<typeof CsvSumResult>;
