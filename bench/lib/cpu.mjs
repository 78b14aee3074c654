// CPU accounting from /proc: utime + stime of every thread of a process, per group of processes,
// plus what the rest of the machine used ("others"), so a noisy neighbour shows in the figures.
import { readdirSync, readFileSync } from 'node:fs';
import { fmt } from './output.mjs';

const CLOCK_TICKS = 100; // USER_HZ on Linux
export const CPU_COUNT = readFileSync('/proc/stat', 'utf8')
  .split('\n')
  .filter((l) => /^cpu\d+ /.test(l)).length;

/** utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat text, in ticks. */
function statTicks(stat) {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function processTicks(pid) {
  try {
    return statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of a process's threads, grouped: `main` (the event loop), else the thread's name
 * without its number (e.g. `node`, `libvips worker`). Feed two of them to threadDelta().
 */
export function threadTicks(pid) {
  const groups = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const group = Number(tid) === pid ? 'main' : comm.replace(/[\s\d_-]+$/, '') || comm;
        groups.set(group, (groups.get(group) ?? 0) + statTicks(stat));
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return groups;
}

/** CPU ms per thread group between two threadTicks() (threads that ended in between are lost, so this is a lower bound). */
export function threadDelta(before, after) {
  const ms = {};
  for (const [group, ticks] of after) ms[group] = (1000 * (ticks - (before.get(group) ?? 0))) / CLOCK_TICKS;
  return ms;
}

/** Pids whose command name (/proc/<pid>/comm) is one of `names`. */
export function pidsByName(names) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

function systemTicks() {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // irq + softirq: loopback TCP work the kernel does outside any process's own CPU time.
  return {
    total: values.reduce((a, b) => a + b, 0),
    idle: values[3] + values[4],
    irq: values[5] + values[6],
  };
}

/**
 * A snapshot of the CPU time of each group (name → () => pids); `later.since(earlier)` gives the %
 * of one core each group used in between, then irq, machine (all busy CPU) and others (machine −
 * the groups − irq). A pid absent from `earlier` (e.g. a PostgreSQL backend started meanwhile)
 * counts its whole CPU time, unless `skipNewPids`. `later.usageSince(earlier)` gives the same
 * figures as { percent, ms, seconds }: ms is CPU milliseconds over the window of `seconds`.
 */
export function cpuSnapshot(groups) {
  const at = performance.now();
  const ticks = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [
      name,
      new Map(pids().map((pid) => [pid, processTicks(pid) ?? 0])),
    ]),
  );
  const system = systemTicks();
  function usageSince(earlier, { skipNewPids = false } = {}) {
    const seconds = (at - earlier.at) / 1000;
    const usage = {};
    const ms = {};
    for (const [name, now] of Object.entries(ticks)) {
      let delta = 0;
      for (const [pid, value] of now)
        delta += value - (earlier.ticks[name].get(pid) ?? (skipNewPids ? value : 0));
      usage[name] = (100 * delta) / CLOCK_TICKS / seconds;
      ms[name] = (1000 * delta) / CLOCK_TICKS;
    }
    const totalDelta = system.total - earlier.system.total;
    const share = (d) => (totalDelta > 0 ? ((100 * d) / totalDelta) * CPU_COUNT : 0);
    const ours = Object.values(usage).reduce((a, b) => a + b, 0);
    usage.irq = share(system.irq - earlier.system.irq);
    usage.machine = share(system.total - system.idle - (earlier.system.total - earlier.system.idle));
    // Everything else on the machine (other people's jobs): a noisy neighbour shows up here.
    usage.others = Math.max(0, usage.machine - ours - usage.irq);
    for (const name of ['irq', 'machine', 'others']) ms[name] = (usage[name] / 100) * seconds * 1000;
    return { percent: usage, ms, seconds };
  }
  return { at, ticks, system, usageSince, since: (earlier, options) => usageSince(earlier, options).percent };
}

const INFRASTRUCTURE = {
  postgres: () => pidsByName(['postgres']),
  rabbitmq: () => pidsByName(['beam.smp']),
};

/**
 * The groups of a run: this process ("bench"), each service handle, then the infrastructure in the
 * order given (the order the figures are printed in).
 */
export function cpuGroups(services, infrastructure = ['postgres', 'rabbitmq']) {
  return {
    bench: () => [process.pid],
    ...Object.fromEntries(Object.entries(services).map(([name, handle]) => [name, () => [handle.pid]])),
    ...Object.fromEntries(infrastructure.map((name) => [name, INFRASTRUCTURE[name]])),
  };
}

export const formatCpu = (usage) =>
  Object.entries(usage)
    .map(([name, percent]) => `${name} ${percent.toFixed(0)}%`)
    .join(', ');

/** Table cells of a usage: each of `names` in % of one core, then the whole machine's use out of all its cores. */
export function cpuCells(usage, names) {
  return [...names.map((name) => fmt(usage[name])), `${fmt(usage.machine)} / ${CPU_COUNT * 100}`];
}
