import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@conveyor/platform';
import { CleanupEnv } from '../../services/cleanup/src/config.js';
import { ConsumerEnv } from '../../services/consumer/src/config.js';
import { NotifierEnv } from '../../services/notifier/src/config.js';
import { ProducerEnv } from '../../services/producer/src/config.js';
import { REPO_ROOT } from '../first-contact/fresh-machine.js';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  notifierApp,
  producerApp,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { families, scrape } from './prometheus-text.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- configuration files read as plain YAML and JSON */
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const yamlFile = (path: string): any => parse(read(path), { merge: true });

const prometheus = yamlFile('infra/prometheus/prometheus.yml');
const rules = yamlFile('infra/prometheus/rules.yml');
const dashboard = JSON.parse(read('infra/grafana/dashboards/conveyor.json'));
const compose = yamlFile('docker-compose.yml');

/** Each Conveyor service's ops port as its own config schema defaults it. */
const OPS_PORTS: Record<string, number> = {
  producer: loadConfig(ProducerEnv, {}).OPS_PORT,
  consumer: loadConfig(ConsumerEnv, {}).OPS_PORT,
  cleanup: loadConfig(CleanupEnv, {}).OPS_PORT,
  notifier: loadConfig(NotifierEnv, { WEBHOOK_SECRET }).OPS_PORT,
};

/**
 * RabbitMQ's names the dashboard may use: the per-queue family the `rabbitmq-queues` job asks
 * for (rabbitmq_prometheus' /metrics/detailed?family=queue_coarse_metrics). No RabbitMQ with the
 * plugin runs here, so these are taken from its documentation.
 */
const RABBITMQ_QUEUE_COARSE_METRICS = [
  'rabbitmq_detailed_queue_messages_ready',
  'rabbitmq_detailed_queue_messages_unacked',
  'rabbitmq_detailed_queue_messages',
  'rabbitmq_detailed_queue_process_reductions_total',
];
/** Series Prometheus makes itself for each target. */
const PROMETHEUS_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

interface Expression {
  where: string;
  expr: string;
}

function dashboardExpressions(): Expression[] {
  const panels: any[] = dashboard.panels.flatMap((panel: any) => [panel, ...(panel.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target: any) => ({
      where: `dashboard panel "${panel.title}"`,
      expr: String(target.expr),
    })),
  );
}

function ruleExpressions(): Expression[] {
  return rules.groups.flatMap((group: any) =>
    group.rules.map((rule: any) => ({
      where: `rule ${rule.record ?? rule.alert}`,
      expr: String(rule.expr),
    })),
  );
}

const recorded = new Set<string>(
  rules.groups.flatMap((group: any) => group.rules.map((rule: any) => rule.record).filter(Boolean)),
);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool']);
const KEYWORDS_OR_OPERATORS = new Set([...KEYWORDS, 'and', 'or', 'unless', 'offset']);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, keywords,
 * label names (inside braces or after by/without) or durations.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$:])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || KEYWORDS_OR_OPERATORS.has(name!)) continue;
    names.add(name!);
  }
  return [...names];
}

describe('the Prometheus and Grafana configuration in infra/', () => {
  let isolated: IsolatedEnv;
  /** Every family the four services declare at /metrics, with its type. */
  const exported = new Map<string, string>();

  beforeAll(async () => {
    isolated = await createIsolatedEnv('obsconfig');
    const env = { ...isolated.env, WEBHOOK_SECRET, BUILT_IN_KINDS: 'object-check' };
    const apps = [producerApp(env), consumerApp(env), cleanupApp(env), notifierApp(env)];
    const started: (typeof apps)[number][] = [];
    try {
      for (const app of apps) {
        await app.start();
        started.unshift(app);
      }
      for (const app of apps)
        for (const [name, type] of families((await scrape(app.opsPort)).text)) exported.set(name, type);
    } finally {
      for (const app of started) await app.stop();
    }
  });

  afterAll(async () => {
    await isolated?.dispose();
  });

  it('extracts metric names from PromQL as this test means to', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (kind, le) (rate(conveyor_job_run_seconds_bucket{status="failed"}[$__rate_interval]))) > 0.5',
      ),
    ).toEqual(['conveyor_job_run_seconds_bucket']);
    expect(metricNames('max(a_b) - max(min_over_time(c:d:e[15m])) > 0 and on (job) up == 0')).toEqual([
      'a_b',
      'c:d:e',
      'up',
    ]);
  });

  it('uses only metrics a Conveyor service exports, RabbitMQ exports, Prometheus makes or a rule records', () => {
    const known = (name: string): boolean => {
      if (exported.has(name) || recorded.has(name)) return true;
      if (RABBITMQ_QUEUE_COARSE_METRICS.includes(name) || PROMETHEUS_SERIES.includes(name)) return true;
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
      return histogram !== null && exported.get(histogram[1]!) === 'histogram';
    };
    const expressions = [...dashboardExpressions(), ...ruleExpressions()];
    expect(expressions.length).toBeGreaterThan(20);
    const unknown = expressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !known(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The new families are all there, and the removed gauge is not.
    for (const name of [
      'conveyor_jobs_submitted_total',
      'conveyor_jobs_started_total',
      'conveyor_jobs_finished_total',
      'conveyor_outbox_messages',
      'conveyor_webhook_deliveries_pending',
      'conveyor_dead_letter_messages',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
    for (const name of [
      'conveyor_job_queue_wait_seconds',
      'conveyor_job_run_seconds',
      'conveyor_job_end_to_end_seconds',
      'conveyor_http_request_duration_seconds',
    ])
      expect({ name, type: exported.get(name) }).toEqual({ name, type: 'histogram' });
    expect(exported.has('conveyor_event_loop_delay_p99_seconds')).toBe(false);
  });

  it('has a dashboard whose panels all query the provisioned Prometheus data source', () => {
    const datasources = yamlFile('infra/grafana/provisioning/datasources/prometheus.yml').datasources;
    expect(datasources).toHaveLength(1);
    const uid = datasources[0].uid;
    const panels: any[] = dashboard.panels.filter((panel: any) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(12);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid });
      expect({ panel: panel.title, targets: panel.targets.length > 0 }).toEqual({
        panel: panel.title,
        targets: true,
      });
    }
    const ids = dashboard.panels.map((panel: any) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Grafana reaches Prometheus by its compose service name and container port.
    expect(new URL(datasources[0].url).host).toBe('prometheus:9090');
  });

  it("scrapes every Conveyor service of docker-compose.yml on its ops port, and RabbitMQ's plugin", () => {
    const services = compose.services as Record<string, any>;
    const conveyor = Object.keys(services).filter((name) => name in OPS_PORTS);
    expect(conveyor.sort()).toEqual(Object.keys(OPS_PORTS).sort());

    const jobs = prometheus.scrape_configs as any[];
    const discovered = jobs.flatMap((job) =>
      (job.dns_sd_configs ?? []).flatMap((sd: any) =>
        sd.names.map((name: string) => ({ job: job.job_name, name, port: sd.port, path: job.metrics_path })),
      ),
    );
    expect(discovered.map((target) => target.name).sort()).toEqual(conveyor.sort());
    for (const target of discovered) {
      const service = services[target.name];
      // The port compose's own health check probes on that service: its ops port too.
      const healthPort = Number(
        /127\.0\.0\.1:(\d+)\/readyz/.exec(JSON.stringify(service.healthcheck.test))?.[1],
      );
      const opsPort = Number(service.environment?.OPS_PORT ?? OPS_PORTS[target.name]);
      expect({ ...target, healthPort }).toEqual({
        job: target.name,
        name: target.name,
        port: opsPort,
        path: undefined,
        healthPort: opsPort,
      });
    }

    const rabbit = jobs.filter((job) => job.job_name.startsWith('rabbitmq'));
    expect(rabbit.flatMap((job) => job.static_configs.flatMap((c: any) => c.targets))).toEqual([
      'rabbitmq:15692',
      'rabbitmq:15692',
    ]);
    expect(services.rabbitmq).toBeDefined();
    const pluginsMount = (services.rabbitmq.volumes as string[]).find((v) => v.includes('enabled_plugins'));
    expect(pluginsMount).toBeDefined();
    expect(read(pluginsMount!.split(':')[0]!)).toContain('rabbitmq_prometheus');

    // Prometheus and Grafana read these very files.
    const mounts = (name: string) =>
      (services[name].volumes as string[]).map((v) => v.split(':').slice(0, 2));
    expect(mounts('prometheus')).toContainEqual(['./infra/prometheus', '/etc/prometheus']);
    expect(prometheus.rule_files).toEqual(['rules.yml']);
    expect(mounts('grafana')).toContainEqual(['./infra/grafana/provisioning', '/etc/grafana/provisioning']);
    const provider = yamlFile('infra/grafana/provisioning/dashboards/conveyor.yml').providers[0];
    expect(mounts('grafana')).toContainEqual(['./infra/grafana/dashboards', provider.options.path]);
  });

  it('passes promtool (config, rules and their unit tests) when promtool is installed', () => {
    const promtool = process.env.PROMTOOL ?? 'promtool';
    if (spawnSync(promtool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      console.log(
        'promtool is not installed: infra/prometheus not checked by promtool (Debian: the prometheus package, or PROMTOOL=<path>)',
      );
      return;
    }
    for (const args of [
      ['check', 'config', 'infra/prometheus/prometheus.yml'],
      ['test', 'rules', 'infra/prometheus/rules.test.yml'],
    ]) {
      const result = spawnSync(promtool, args, { cwd: REPO_ROOT, encoding: 'utf8' });
      expect({
        args,
        status: result.status,
        output: result.status === 0 ? '' : result.stdout + result.stderr,
      }).toEqual({ args, status: 0, output: '' });
    }
  });
});
