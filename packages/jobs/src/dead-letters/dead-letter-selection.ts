import type { DeadLetterSelection } from '@conveyor/contracts';

/**
 * Keyset position in the newest-first listing: after this letter. The time is PostgreSQL's own,
 * to the microsecond (`YYYY-MM-DDTHH:MM:SS.ffffffZ`): a JavaScript Date keeps milliseconds only,
 * and letters stored within one millisecond would be skipped.
 */
export interface DeadLetterCursor {
  deadLetteredAt: string;
  id: string;
}

const MICROSECOND_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(cursor: DeadLetterCursor): string {
  return Buffer.from(`${cursor.deadLetteredAt}|${cursor.id}`, 'utf8').toString('base64url');
}

/** Undefined for anything that is not a cursor this module made. */
export function decodeCursor(text: string): DeadLetterCursor | undefined {
  const [deadLetteredAt, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (deadLetteredAt === undefined || id === undefined || rest.length > 0) return undefined;
  if (!MICROSECOND_TIME.test(deadLetteredAt) || Number.isNaN(Date.parse(deadLetteredAt))) return undefined;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return { deadLetteredAt, id };
}

/** A selection as a filter: ids, a kind, or everything. */
export type SelectionFilter = { ids: string[] } | { kind: string } | { all: true };

export function selectionFilter(selection: DeadLetterSelection): SelectionFilter {
  if ('ids' in selection) return { ids: [...new Set(selection.ids)] };
  if ('kind' in selection) return { kind: selection.kind };
  return { all: true };
}
