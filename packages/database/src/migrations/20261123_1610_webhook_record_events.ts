import { sql, type Kysely } from 'kysely';

/**
 * Records the webhook deliveries of a batch of job events in one round trip (the notifier's hot
 * path), with the same rules as one transaction of several statements would have:
 *
 * 1. Advisory locks, in a fixed order: exclusive per job (a late, older event of a job must see
 *    a newer one recorded concurrently and stand down) and shared per URL (settling a URL as gone
 *    takes its lock exclusively, so it waits for this and then sees these rows).
 * 2. Then, under a fresh snapshot (each statement of a plpgsql function takes its own), one
 *    statement: supersede older deliveries of the job that wait for a retry, insert the new ones
 *    (idempotent per event id) as gone, superseded, leased (`sending`) or pending.
 *
 * Returns id, status and, for leased rows, the client's newest secret id (its secrets version).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function record_webhook_events(
      p_ids text[], p_job_ids uuid[], p_client_ids text[], p_event_ids uuid[], p_sequences int[], p_urls text[],
      p_payloads text[], p_newer_in_batch bool[], p_may_lease bool[], p_lease_seconds float8, p_gone_error text, p_newer_error text
    ) returns table (delivery_id text, delivery_status text, secrets_version bigint)
    language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(k) from (select distinct hashtext('webhook-job:' || j::text) as k from unnest(p_job_ids) as j order by k) jobs;
      perform pg_advisory_xact_lock_shared(hashtext('webhook-url'), k) from (select distinct hashtext(u) as k from unnest(p_urls) as u order by k) urls;
      return query
      with input as (
        select * from unnest(p_ids, p_job_ids, p_client_ids, p_event_ids, p_sequences, p_urls, p_payloads, p_newer_in_batch, p_may_lease)
          with ordinality as v(id, job_id, client_id, event_id, sequence, url, payload, newer_in_batch, may_lease, ord)
      ),
      -- Only a delivery already failing (waiting out a retry) gives way: a healthy receiver
      -- still gets every status, in order; one that was down gets the latest, not a backlog.
      superseded as (
        update webhook_deliveries d set status = 'superseded', updated_at = now()
        from input v
        where d.job_id = v.job_id and d.sequence < v.sequence and d.status = 'pending' and d.attempts > 0
        returning d.id
      ),
      decided as (
        select v.*,
          exists (select 1 from webhook_gone_urls g where g.url = v.url) as gone,
          v.newer_in_batch or exists (select 1 from webhook_deliveries n where n.job_id = v.job_id and n.sequence > v.sequence) as newer,
          -- Older ones this statement superseded are out of the way (not those a claim took first).
          v.may_lease and not exists (
            select 1 from webhook_deliveries o
            where o.job_id = v.job_id and o.sequence < v.sequence and o.status in ('pending', 'sending')
              and o.id not in (select s.id from superseded s)
          ) as leasable
        from input v
      ),
      inserted as (
        insert into webhook_deliveries (id, job_id, client_id, event_id, sequence, url, payload, status, lease_until, last_error)
        select c.id, c.job_id, c.client_id, c.event_id, c.sequence, c.url, c.payload,
          case when c.gone then 'gone' when c.newer then 'superseded' when c.leasable then 'sending' else 'pending' end,
          case when not c.gone and not c.newer and c.leasable then now() + make_interval(secs => p_lease_seconds) end,
          case when c.gone then p_gone_error when c.newer then p_newer_error end
        from decided c
        order by c.ord
        on conflict (event_id) where event_id is not null do nothing
        returning webhook_deliveries.id, webhook_deliveries.status, webhook_deliveries.client_id
      )
      select i.id, i.status,
        case when i.status = 'sending' then (select coalesce(max(s.id), 0) from webhook_secrets s where s.client_id = i.client_id) end
      from inserted i;
    end
    $$
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function record_webhook_events(text[], uuid[], text[], uuid[], int[], text[], text[], bool[], bool[], float8, text, text)`.execute(
    db,
  );
}
