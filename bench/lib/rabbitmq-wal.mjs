// RabbitMQ's quorum queues share one write-ahead log. When it reaches `raft.wal_max_size_bytes`
// (512 MiB by default) it rolls over: a new file is opened and a segment writer copies what the
// live queues still need out of the old one. While that runs, confirms of every quorum queue wait
// (measured here: ~50 ms on two of the POSTs in flight at the end-to-end load; 60–220 ms on six of
// them when the WAL still held the ~1.5 GB the ceiling phases write). Rolling it over on purpose,
// at a quiet moment, lets a phase start on an empty WAL, so that what it measures is its own load.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Asks the local RabbitMQ node to roll its quorum-queue WAL over now (`rabbitmqctl eval`, so the
 * bench must run beside the broker with the right to call rabbitmqctl). Resolves to
 * `{ ok: true }` or `{ ok: false, error }`: a bench that cannot roll goes on and says so.
 */
export async function rollQuorumQueueWal() {
  try {
    const { stdout } = await run('rabbitmqctl', ['eval', 'ra_log_wal:force_roll_over(ra_log_wal).'], {
      timeout: 30_000,
    });
    if (stdout.trim() !== 'ok')
      return { ok: false, error: `rabbitmqctl answered ${stdout.trim().slice(0, 200)}` };
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error.message.split('\n')[0] };
  }
}
