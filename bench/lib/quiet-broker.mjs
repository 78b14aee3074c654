// Waiting for the shared broker and the disks to go quiet between measurements, so that a phase
// does not measure the work the previous one left behind.
import { readFileSync } from 'node:fs';
import { cpuGroups, cpuSnapshot } from './cpu.mjs';

/** Bytes written so far to the machine's disks (whole devices from /proc/diskstats, 512-byte sectors). */
function diskBytesWritten() {
  let sectors = 0;
  for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2] ?? '';
    // Whole disks only: partitions would count twice; loop and zram devices are not the disk.
    if (
      /^(loop|zram|ram)/.test(name) ||
      /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$/.test(name) ||
      /^nvme\d+n\d+p\d+$/.test(name)
    )
      continue;
    sectors += Number(fields[9] ?? 0);
  }
  return sectors * 512;
}

/**
 * Waits until RabbitMQ has been nearly idle (under `belowPercent` of a core) and the disks nearly
 * so (under `belowDiskMiBps`) for `quietSeconds` in a row, at most `maxSeconds`. A phase that filled
 * a quorum queue leaves the broker work to do after it (a purge, its WAL rolled over into segment
 * files: hundreds of megabytes written while its CPU looks idle, during which every fsync, and so
 * every confirm, waits); the next phase should not measure that. Returns how long it waited and
 * the last second's figures.
 */
export async function waitForQuietBroker({
  belowPercent = 15,
  belowDiskMiBps = 4,
  quietSeconds = 2,
  maxSeconds = 60,
} = {}) {
  const groups = cpuGroups({}, ['rabbitmq']);
  const started = performance.now();
  let quiet = 0;
  let percent = NaN;
  let diskMiBps = NaN;
  while (quiet < quietSeconds && performance.now() - started < maxSeconds * 1000) {
    const before = cpuSnapshot(groups);
    const writtenBefore = diskBytesWritten();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    percent = cpuSnapshot(groups).since(before).rabbitmq;
    diskMiBps = (diskBytesWritten() - writtenBefore) / 1024 / 1024;
    quiet = percent < belowPercent && diskMiBps < belowDiskMiBps ? quiet + 1 : 0;
  }
  return { seconds: (performance.now() - started) / 1000, percent, diskMiBps, quiet: quiet >= quietSeconds };
}
