// What bench/jobs.bench.mjs prints about Conveyor against its peers (BullMQ, pg-boss): every run of
// the rounds, the means, and the targets for Conveyor.
import { fmt, printTable } from './output.mjs';

/** The targets for Conveyor against its peers (same run, same machine). */
const TARGET_CPU_MS_PER_JOB = 0.5;
const TARGET_P50_MS = 50;
/** The processes a Conveyor run's CPU per job adds up: its services and the two stores. */
const CONVEYOR_PROCESSES = ['producer', 'consumer', 'postgres', 'rabbitmq'];

const processesOf = (run) => run.processes ?? CONVEYOR_PROCESSES;
const mean = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
/** A run's (or a system's) CPU ms per job of each of its processes. */
const byProcess = (figures, processes) =>
  processes.map((name) => `${name} ${fmt(figures.msPerJob[name], 3)}`).join(', ');

/** One system over its rounds: mean jobs/s and latencies; CPU per job over all its completed jobs. */
function systemFigures(name, runs) {
  const succeeded = runs.reduce((a, r) => a + r.succeeded, 0);
  const perJob = (pick) => runs.reduce((a, r) => a + pick(r) * r.succeeded, 0) / Math.max(1, succeeded);
  return {
    name,
    runs,
    jobsPerSecond: mean(runs.map((r) => r.jobsPerSecond)),
    p50: mean(runs.map((r) => r.p50)),
    p99: mean(runs.map((r) => r.p99)),
    cpuMsPerJob: perJob((r) => r.cpuMsPerJob),
    msPerJob: Object.fromEntries(
      processesOf(runs[0]).map((process) => [process, perJob((r) => r.msPerJob[process])]),
    ),
    complete: runs.every((r) => r.complete && r.failed === 0),
  };
}

/** "Conveyor ÷ peer" of jobs/s and of CPU per job (above 1 is better for jobs/s, below 1 for CPU). */
const ratios = (conveyor, peer) =>
  conveyor && peer
    ? { speed: conveyor.jobsPerSecond / peer.jobsPerSecond, cpu: conveyor.cpuMsPerJob / peer.cpuMsPerJob }
    : undefined;

/**
 * Prints the peer comparison: `conveyorRuns` are Conveyor's runs of `conveyorKind` at `concurrency`
 * (empty when Conveyor was not measured), `peerRuns` every peer run, each with its `round`.
 */
export function printPeerReport({
  conveyorRuns,
  conveyorKind,
  peerRuns,
  concurrency,
  clients,
  rounds,
  jobs,
}) {
  const conveyorName = `conveyor (${conveyorKind})`;
  const nameOf = (run) => run.system ?? conveyorName;
  const all = [...conveyorRuns, ...peerRuns].sort((a, b) => a.round - b.round);
  const conveyorOfRound = (round) => conveyorRuns.find((r) => r.round === round);

  printTable(
    `Conveyor and its peers, round by round (concurrency ${concurrency}, ${clients} clients, ${fmt(jobs)} jobs a run; CPU = producer + worker + store(s), ms per completed job)`,
    [
      'System, round',
      'jobs/s',
      'steady jobs/s',
      'e2e p50 ms',
      'e2e p99 ms',
      'CPU ms/job',
      'CPU ms/job by process',
      'done',
      'submit 202/s',
      'others % of a core',
      'Conveyor ÷ this: jobs/s; CPU',
    ],
    all.map((r) => {
      const ratio = r.system ? ratios(conveyorOfRound(r.round), r) : undefined;
      return [
        `${nameOf(r)} #${r.round}`,
        fmt(r.jobsPerSecond),
        fmt(r.steadyRate),
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.cpuMsPerJob, 3),
        byProcess(r, processesOf(r)),
        `${fmt(r.succeeded)}/${fmt(jobs)}${r.complete ? '' : ' (cut)'}`,
        fmt(r.submit.rate),
        fmt(r.cpu.others),
        ratio ? `${fmt(ratio.speed, 2)}; ${fmt(ratio.cpu, 2)}` : '',
      ];
    }),
  );

  const conveyor = conveyorRuns.length > 0 ? systemFigures(conveyorName, conveyorRuns) : undefined;
  const peers = [...new Set(peerRuns.map((r) => r.system))].map((system) =>
    systemFigures(
      system,
      peerRuns.filter((r) => r.system === system),
    ),
  );
  const range = (figures) =>
    figures.runs.length > 1 ? ` (${figures.runs.map((r) => fmt(r.jobsPerSecond)).join(', ')})` : '';
  printTable(
    `Conveyor against its peers, mean of ${rounds} round(s) (Conveyor ÷ peer: jobs/s above 1 and CPU below 1 favour Conveyor)`,
    [
      'System',
      'jobs/s (rounds)',
      'e2e p50 ms',
      'e2e p99 ms',
      'CPU ms/job',
      'CPU ms/job by process',
      'Conveyor ÷ peer jobs/s',
      'Conveyor ÷ peer CPU/job',
    ],
    [conveyor, ...peers]
      .filter((figures) => figures !== undefined)
      .map((figures) => {
        const ratio = figures === conveyor ? undefined : ratios(conveyor, figures);
        return [
          `${figures.name}${figures.complete ? '' : ' (incomplete)'}`,
          `${fmt(figures.jobsPerSecond)}${range(figures)}`,
          fmt(figures.p50),
          fmt(figures.p99),
          fmt(figures.cpuMsPerJob, 3),
          byProcess(figures, processesOf(figures.runs[0])),
          ratio ? fmt(ratio.speed, 2) : '',
          ratio ? fmt(ratio.cpu, 2) : '',
        ];
      }),
  );

  if (!conveyor) {
    console.log('\nConveyor was not measured (--systems): no ratios, and no verdict on the issue targets.');
    return;
  }
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  const faster = (system) => {
    const peer = peers.find((p) => p.name === system);
    if (!peer) return [];
    const speed = conveyor.jobsPerSecond / peer.jobsPerSecond;
    return [
      [
        `jobs/s ≥ ${system}'s (Conveyor vs ${system})`,
        `${fmt(conveyor.jobsPerSecond)} vs ${fmt(peer.jobsPerSecond)} (${fmt(speed, 2)}×)`,
        '≥ 1×',
        verdict(conveyor.complete && speed >= 1),
      ],
    ];
  };
  printTable(
    `The issue's targets for Conveyor (${conveyorName}, concurrency ${concurrency}, means of this run)`,
    ['Figure', 'Measured', 'Target', 'Result'],
    [
      ...faster('bullmq-always'),
      ...faster('bullmq-everysec'),
      [
        'CPU per job across all processes (ms)',
        fmt(conveyor.cpuMsPerJob, 3),
        `≤ ${TARGET_CPU_MS_PER_JOB}`,
        verdict(conveyor.cpuMsPerJob <= TARGET_CPU_MS_PER_JOB),
      ],
      [
        'End-to-end p50 (ms, mean of the rounds)',
        fmt(conveyor.p50, 1),
        `≤ ${TARGET_P50_MS}`,
        verdict(conveyor.p50 <= TARGET_P50_MS),
      ],
      [
        'Every job of every system done',
        [conveyor, ...peers].every((f) => f.complete)
          ? 'yes'
          : [conveyor, ...peers]
              .filter((f) => !f.complete)
              .map((f) => f.name)
              .join(', '),
        'yes',
        verdict([conveyor, ...peers].every((f) => f.complete)),
      ],
    ],
  );
}
