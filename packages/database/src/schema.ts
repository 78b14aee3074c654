import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';

/** bigint columns arrive from pg as strings (pg does not guess at 64-bit precision). */
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface ObjectsTable {
  id: Int8;
  last_seen: ColumnType<Date, Date | string, Date | string>;
}

export interface OutboxTable {
  id: GeneratedAlways<string>;
  exchange: string;
  routing_key: string;
  message_id: string;
  correlation_id: string | null;
  type: string | null;
  body: string;
  created_at: Generated<Date>;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface Database {
  objects: ObjectsTable;
  outbox: OutboxTable;
}

export type ObjectRow = Selectable<ObjectsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
