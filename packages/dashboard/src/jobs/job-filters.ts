import { JobStatus, type Job } from '@conveyor/contracts';

/** The jobs list's filters; they live in the address (`/ui/jobs?status=failed`) so a view can be shared. */
export interface JobFilters {
  status: JobStatus | null;
  kind: string;
  customId: string;
  clientId: string;
}

export function filtersOf(query: URLSearchParams): JobFilters {
  const status = JobStatus.safeParse(query.get('status'));
  return {
    status: status.success ? status.data : null,
    kind: query.get('kind') ?? '',
    customId: query.get('customId') ?? '',
    clientId: query.get('clientId') ?? '',
  };
}

/** The query string of the filters set, for the address and for GET /v1/jobs alike. */
export function queryOf(filters: JobFilters, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  if (filters.status !== null) query.set('status', filters.status);
  for (const name of ['kind', 'customId', 'clientId'] as const) {
    const value = filters[name].trim();
    if (value !== '') query.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Whether a job that just appeared belongs in the list. A job does not say its client, so with
 * a client filter set a live job is not added (the list is re-read instead).
 */
export function matches(filters: JobFilters, job: Job): boolean {
  if (filters.clientId.trim() !== '') return false;
  if (filters.status !== null && job.status !== filters.status) return false;
  if (filters.kind.trim() !== '' && job.kind !== filters.kind.trim()) return false;
  if (filters.customId.trim() !== '' && job.customId !== filters.customId.trim()) return false;
  return true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The search box takes a job id (opens the job) or a customId (filters by it). */
export function searchTarget(text: string): { jobId: string } | { customId: string } | null {
  const value = text.trim();
  if (value === '') return null;
  return UUID.test(value) ? { jobId: value.toLowerCase() } : { customId: value };
}
