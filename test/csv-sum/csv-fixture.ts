import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Server } from '@conveyor/testkit';

/**
 * Writes a CSV with a header and `columns` columns of decimals (signs, up to 6 fraction digits)
 * and returns the exact sums of every 10th column, computed independently with BigInt.
 */
export async function writeCsvFixture(
  path: string,
  rows: number,
  columns = 30,
  seed = 7,
): Promise<{ sums: Map<number, string>; bytes: number }> {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const scaled = new Map<number, bigint>();
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (line: string) => {
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  await write(Array.from({ length: columns }, (_, i) => `c${i + 1}`).join(',') + '\n');
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 1; c <= columns; c++) {
      const micros = BigInt(Math.floor(random() * 2e9) - 1e9);
      if (c % 10 === 0) scaled.set(c, (scaled.get(c) ?? 0n) + micros);
      const sign = micros < 0n ? '-' : '';
      const abs = micros < 0n ? -micros : micros;
      cells.push(`${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`);
    }
    await write(cells.join(',') + (r % 3 === 0 ? '\r\n' : '\n'));
  }
  out.end();
  await once(out, 'finish');
  const sums = new Map<number, string>();
  for (const [column, total] of scaled) sums.set(column, formatMicros(total));
  return { sums, bytes };
}

function formatMicros(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${sign}${abs / 1_000_000n}${fraction ? `.${fraction}` : ''}`;
}

/** Exact decimal strings compared as numbers scaled to 18 fraction digits. */
export function scaledDecimal(decimal: string): bigint {
  const [int, frac = ''] = decimal.replace('-', '').split('.');
  const value = BigInt(int!) * 10n ** 18n + BigInt((frac + '0'.repeat(18)).slice(0, 18));
  return decimal.startsWith('-') ? -value : value;
}

/** Stores objects (key → body) in a bucket of the test's s3rver, as an uploader would. */
export async function putObjects(
  s3: S3Server,
  bucket: string,
  objects: Record<string, string | Buffer>,
): Promise<void> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    for (const [key, body] of Object.entries(objects))
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** What points a service at a local storage root and at s3rver (its fixed credentials) through `s3Endpoint`. */
export function csvStorageEnv(root: string, s3Endpoint: string): Record<string, string> {
  return {
    STORAGE_ROOT: root,
    S3_ENDPOINT: s3Endpoint,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
  };
}
