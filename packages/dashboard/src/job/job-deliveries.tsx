import { Fragment } from 'preact';
import { dateTime } from '../ui/format.js';
import type { WebhookDelivery } from './deliveries.schema.js';

/** Every push of the job's changes to its callbackUrl, newest first, each attempt below it. */
export function JobDeliveries({ deliveries }: { deliveries: readonly WebhookDelivery[] }) {
  if (deliveries.length === 0) return <p class="muted">No webhook delivery.</p>;
  return (
    <table aria-label="Webhook deliveries" class="deliveries">
      <thead>
        <tr>
          <th class="num">Event</th>
          <th>Status</th>
          <th class="num">Attempts</th>
          <th>Created</th>
          <th>Delivered</th>
          <th>Last answer</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((delivery) => (
          <Fragment key={delivery.id}>
            <tr data-delivery-id={delivery.id} data-delivery-status={delivery.status}>
              <td class="num">#{delivery.sequence}</td>
              <td>
                <span class={`badge delivery-${delivery.status}`}>{delivery.status}</span>
              </td>
              <td class="num">{delivery.attempts}</td>
              <td>{dateTime(delivery.createdAt)}</td>
              <td>{dateTime(delivery.deliveredAt)}</td>
              <td>{delivery.lastError ?? delivery.lastStatusCode ?? '—'}</td>
            </tr>
            {delivery.attemptLog.map((attempt) => (
              <tr key={`${delivery.id}-${attempt.attempt}`} class="attempt" data-attempt={attempt.attempt}>
                <td />
                <td colSpan={5}>
                  attempt {attempt.attempt} at {dateTime(attempt.startedAt)}:{' '}
                  {attempt.statusCode === null ? 'no answer' : `HTTP ${attempt.statusCode}`}
                  {attempt.latencyMs === null ? '' : ` in ${Math.round(attempt.latencyMs)} ms`}
                  {attempt.error !== null && <span class="error-text"> — {attempt.error}</span>}
                  {attempt.responseSnippet !== null && attempt.responseSnippet !== '' && (
                    <code class="snippet">{attempt.responseSnippet}</code>
                  )}
                </td>
              </tr>
            ))}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
