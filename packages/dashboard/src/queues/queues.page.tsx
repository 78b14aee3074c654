import { PauseState, QueueList, type QueueInfo } from '@conveyor/contracts';
import { apiJson } from '../api/api-client.js';
import { useApi } from '../api/use-api.js';
import { ConfirmAction } from '../ui/confirm-action.js';
import { count, rate } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';

/** Queue figures move by the second; a read every 5 s keeps the page honest without load. */
const REFRESH_MS = 5_000;

export function QueuesPage() {
  const queues = useApi(() => apiJson(QueueList, 'GET', '/v1/queues'), [], REFRESH_MS);

  const setPaused = async (queue: QueueInfo, pause: boolean) => {
    if (queue.kind === null) throw new Error(`${queue.name} is not a work queue`);
    const state = await apiJson(
      PauseState,
      'POST',
      `/v1/queues/${encodeURIComponent(queue.kind)}/${pause ? 'pause' : 'resume'}`,
    );
    queues.reload();
    return `${state.kind} ${state.paused ? 'paused' : 'resumed'}`;
  };

  return (
    <section>
      <h1>Queues</h1>
      <ErrorNote error={queues.error} />
      {queues.data && (
        <>
          <p class="muted">
            Figures from{' '}
            {queues.data.source === 'management'
              ? "RabbitMQ's management API"
              : 'AMQP (ready messages only, no rates)'}
            .
          </p>
          <table aria-label="Queues">
            <thead>
              <tr>
                <th>Queue</th>
                <th>Role</th>
                <th>Kind</th>
                <th class="num">Messages</th>
                <th class="num">Ready</th>
                <th class="num">Unacked</th>
                <th class="num">Consumers</th>
                <th class="num">Publish</th>
                <th class="num">Deliver</th>
                <th class="num">Ack</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {queues.data.queues.map((queue) => (
                <tr key={queue.name} data-queue={queue.name} data-kind={queue.kind ?? ''}>
                  <td>
                    <code>{queue.name}</code>
                  </td>
                  <td>{queue.role}</td>
                  <td>{queue.kind ?? '—'}</td>
                  <td class="num">{count(queue.messages)}</td>
                  <td class="num">{count(queue.ready)}</td>
                  <td class="num">{count(queue.unacked)}</td>
                  <td class="num">{count(queue.consumers)}</td>
                  <td class="num">{rate(queue.rates?.publish)}</td>
                  <td class="num">{rate(queue.rates?.deliver)}</td>
                  <td class="num">{rate(queue.rates?.ack)}</td>
                  <td>
                    {queue.role === 'work' && queue.kind !== null ? (
                      <>
                        <span class={`badge ${queue.paused ? 'status-failed' : 'status-succeeded'}`}>
                          {queue.paused ? 'paused' : 'running'}
                        </span>{' '}
                        {queue.paused ? (
                          <ConfirmAction
                            key="resume"
                            label="Resume"
                            question={`Resume taking ${queue.kind} messages?`}
                            run={() => setPaused(queue, false)}
                          />
                        ) : (
                          <ConfirmAction
                            key="pause"
                            label="Pause"
                            question={`Stop consumers taking ${queue.kind} messages?`}
                            danger
                            run={() => setPaused(queue, true)}
                          />
                        )}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
