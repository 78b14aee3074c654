import { Job, JobHistoryEntry } from '@conveyor/contracts';
import { z } from 'zod';
import { jsonData, type ServerSentEvent } from '../api/sse-parser.js';

/** A stable key: a status or progress step by its sequence, a delivery attempt by its own ids. */
export function entryKey(entry: JobHistoryEntry): string {
  return entry.type === 'delivery'
    ? `delivery-${entry.deliveryId}-${entry.attempt}`
    : `${entry.type}-${entry.sequence}`;
}

/** A `history` event carries one entry or several. */
const HistoryEventData = z.union([JobHistoryEntry, z.array(JobHistoryEntry)]);

export type JobLiveEvent = { type: 'job'; job: Job } | { type: 'history'; entries: JobHistoryEntry[] };

/** An event of `GET /v1/jobs/{id}/live`, parsed; undefined for anything else. */
export function parseJobLiveEvent(event: ServerSentEvent): JobLiveEvent | undefined {
  const data = jsonData(event);
  if (event.event === 'job') {
    const job = Job.safeParse(data);
    return job.success ? { type: 'job', job: job.data } : undefined;
  }
  if (event.event === 'history') {
    const history = HistoryEventData.safeParse(data);
    if (!history.success) return undefined;
    return { type: 'history', entries: Array.isArray(history.data) ? history.data : [history.data] };
  }
  return undefined;
}

/** The timeline with new entries in, each once, in time order. */
export function mergeHistory(
  known: readonly JobHistoryEntry[],
  arrived: readonly JobHistoryEntry[],
): JobHistoryEntry[] {
  const byKey = new Map(known.map((entry) => [entryKey(entry), entry]));
  for (const entry of arrived) byKey.set(entryKey(entry), entry);
  return [...byKey.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
