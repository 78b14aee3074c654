import { sql, type Kysely } from 'kysely';

/**
 * Due deliveries are looked up through two partial indexes, one per way a delivery becomes due,
 * instead of one over every pending or sending row:
 * - pending rows by next_attempt_at (retries, and rows recorded while the dispatcher was full):
 *   a delivery leased at once when recorded, the usual case, never has an entry here;
 * - sending rows by lease_until (leases of a notifier that died).
 * Why: status changes are never HOT updates (status is in the index predicates), so the index
 * entry a delivery got while sending stays until VACUUM, pointing at a dead row. The old index
 * held one such entry per delivery since the last vacuum, all in the range every poll's straggler
 * statement reads; now that statement reads only the pending index, and the claim reads each
 * index in key order, within its range (DeliveryStore.claimDue keeps those reads plain index
 * scans, which mark dead entries so later polls skip them).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index webhook_deliveries_pending_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(
    db,
  );
  await sql`create index webhook_deliveries_lease_idx on webhook_deliveries (lease_until) where status = 'sending'`.execute(
    db,
  );
  await sql`drop index webhook_deliveries_due_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status in ('pending', 'sending')`.execute(
    db,
  );
  await sql`drop index webhook_deliveries_lease_idx`.execute(db);
  await sql`drop index webhook_deliveries_pending_due_idx`.execute(db);
}
