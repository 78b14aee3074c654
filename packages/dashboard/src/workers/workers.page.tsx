import { WorkerList } from '@conveyor/contracts';
import { apiJson } from '../api/api-client.js';
import { useApi } from '../api/use-api.js';
import { ago, count, dateTime } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';

/** Hosts heartbeat every few seconds; reading as often shows one going quiet. */
const REFRESH_MS = 5_000;

export function WorkersPage() {
  const workers = useApi(() => apiJson(WorkerList, 'GET', '/v1/workers'), [], REFRESH_MS);
  return (
    <section>
      <h1>Workers</h1>
      <ErrorNote error={workers.error} />
      {workers.data && workers.data.workers.length === 0 && <p>No worker host has registered.</p>}
      {workers.data && workers.data.workers.length > 0 && (
        <table aria-label="Workers">
          <thead>
            <tr>
              <th>Host</th>
              <th class="num">PID</th>
              <th>Kinds</th>
              <th class="num">In flight</th>
              <th>Started</th>
              <th>Last heartbeat</th>
              <th>Alive</th>
            </tr>
          </thead>
          <tbody>
            {workers.data.workers.map((worker) => (
              <tr key={worker.id} data-worker={worker.id} class={worker.alive ? '' : 'dim'}>
                <td>{worker.hostname}</td>
                <td class="num">{worker.pid}</td>
                <td>{worker.kinds.join(', ')}</td>
                <td class="num">{count(worker.inFlight)}</td>
                <td title={dateTime(worker.startedAt)}>{ago(worker.startedAt)}</td>
                <td title={dateTime(worker.lastHeartbeatAt)}>{ago(worker.lastHeartbeatAt)}</td>
                <td>
                  <span class={`badge ${worker.alive ? 'status-succeeded' : 'status-failed'}`}>
                    {worker.alive ? 'alive' : 'silent'}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
