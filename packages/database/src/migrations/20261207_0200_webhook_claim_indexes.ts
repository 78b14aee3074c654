import { sql, type Kysely } from 'kysely';

/**
 * Due deliveries are looked up through two partial indexes, one per way a delivery becomes due,
 * instead of one over every pending or sending row:
 * - pending rows by next_attempt_at (retries, and rows recorded while the dispatcher was full):
 *   a delivery leased at once when recorded, the usual case, never has an entry here;
 * - sending rows by lease_until (leases of a notifier that died).
 * Why: status changes are never HOT updates (status is in the index predicates), so the index
 * entry a delivery got while sending stays until VACUUM, pointing at a dead row. The old index
 * held one such entry per delivery since the last vacuum, and the claim and straggler statements
 * of every poll read it with a bitmap scan, which visits each dead row's heap page and cannot mark
 * the entry dead: ~4 ms per statement after 26,000 deliveries, growing with the table. The claim
 * now walks each index in key order (a plain index scan marks dead entries, later scans skip their
 * heap pages), and the straggler statement reads only the pending index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index webhook_deliveries_pending_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`create index webhook_deliveries_lease_idx on webhook_deliveries (lease_until) where status = 'sending'`.execute(db);
  await sql`drop index webhook_deliveries_due_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status in ('pending', 'sending')`.execute(db);
  await sql`drop index webhook_deliveries_lease_idx`.execute(db);
  await sql`drop index webhook_deliveries_pending_due_idx`.execute(db);
}
