import { AppError } from '@conveyor/platform';
import { z } from 'zod';

/** How a listing route documents its 400s. */
export const LIST_QUERY_ERRORS = '`validation_failed` or `invalid_cursor`; `details` names the parameter';

export function invalidCursor(): AppError {
  return new AppError('invalid_cursor', 'cursor must be the nextCursor of a previous page', {
    status: 400,
    details: [{ path: 'query.cursor', message: 'not a cursor' }],
  });
}

/** A listing's cursor: the id of the last row of the previous page (a 400 when it is not one). */
export function cursorId(cursor: string | undefined): string | undefined {
  if (cursor !== undefined && !z.uuid().safeParse(cursor).success) throw invalidCursor();
  return cursor;
}

/**
 * Keyset paging: a route reads `limit + 1` rows after the cursor; the extra row, when there is
 * one, only says that a next page exists, whose cursor is this page's last id.
 */
export function keysetPage<T extends { id: string }>(
  rows: readonly T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { page, nextCursor: rows.length > limit ? page[page.length - 1]!.id : null };
}
