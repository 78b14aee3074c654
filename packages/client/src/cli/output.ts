import type { Job } from '../jobs/job-kinds.js';

/** Where a command's answer goes: one JSON document with --json, lines for a person otherwise. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
  ) {}

  /** `value` as JSON, or `human(value)` for a person. */
  result<T>(value: T, human: (value: T) => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
  }
}

export function jobTable(jobs: readonly Job[]): string {
  return table(
    ['ID', 'KIND', 'STATUS', 'PROGRESS', 'CUSTOM ID', 'CREATED'],
    jobs.map((job) => [
      job.id,
      job.kind,
      job.status,
      percent(job.progress.fraction),
      job.customId ?? '',
      job.createdAt,
    ]),
  );
}

export function jobDetail(job: Job): string {
  const lines = [
    `id:        ${job.id}`,
    `kind:      ${job.kind}`,
    `status:    ${job.status}`,
    `progress:  ${percent(job.progress.fraction)}${job.progress.message ? ` ${job.progress.message}` : ''}`,
    `attempts:  ${job.attempts}`,
  ];
  if (job.customId) lines.push(`customId:  ${job.customId}`);
  lines.push(`created:   ${job.createdAt}`);
  if (job.finishedAt) lines.push(`finished:  ${job.finishedAt}`);
  if (job.error) lines.push(`error:     ${job.error.code}: ${job.error.message}`);
  if (job.result !== null) lines.push(`result:    ${JSON.stringify(job.result)}`);
  if (job.expired) lines.push('result expired');
  return lines.join('\n');
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** Rows of text in aligned columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
