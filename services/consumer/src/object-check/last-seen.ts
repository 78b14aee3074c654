export interface LastSeen {
  objectId: number;
  lastSeen: Date;
}

/**
 * One row per object with its latest time: an upsert may touch a row only once per statement,
 * and last_seen must never move backwards whichever copy of a message comes last.
 */
export function latestPerObject(rows: readonly LastSeen[]): LastSeen[] {
  const latest = new Map<number, LastSeen>();
  for (const row of rows) {
    const current = latest.get(row.objectId);
    if (!current || row.lastSeen > current.lastSeen) latest.set(row.objectId, row);
  }
  return [...latest.values()];
}
