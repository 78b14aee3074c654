import type { DeadLetterSelection } from '@conveyor/contracts';

/** Keyset position in the newest-first listing: after this letter. */
export interface DeadLetterCursor {
  deadLetteredAt: Date;
  id: string;
}

export function encodeCursor(cursor: DeadLetterCursor): string {
  return Buffer.from(`${cursor.deadLetteredAt.toISOString()}|${cursor.id}`, 'utf8').toString('base64url');
}

/** Undefined for anything that is not a cursor this module made. */
export function decodeCursor(text: string): DeadLetterCursor | undefined {
  const [at, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (at === undefined || id === undefined || rest.length > 0) return undefined;
  const deadLetteredAt = new Date(at);
  if (Number.isNaN(deadLetteredAt.getTime()) || deadLetteredAt.toISOString() !== at) return undefined;
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
