/**
 * The Kubernetes manifests under infra/k8s, checked offline: each overlay (and the user-kind
 * example) is rendered by the real kustomize and every object validated against its schema
 * (the core API's, KEDA's, CloudNativePG's, the RabbitmqCluster's), then held to what the
 * services need: probes, resources, a grace period beyond the handlers', a disruption budget
 * per Deployment, a KEDA trigger on every work queue, and only environment variables that the
 * service's own config schema knows, with values it accepts.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { MessageCatalog, topologyNames, type MessageKind } from '@conveyor/contracts';
import { CleanupEnv } from '../../services/cleanup/src/config.js';
import { ConsumerEnv } from '../../services/consumer/src/config.js';
import { NotifierEnv } from '../../services/notifier/src/config.js';
import { ProducerEnv } from '../../services/producer/src/config.js';
import { TesterEnv } from '../../services/tester/src/config.js';
import { schemaProblems } from './k8s-schemas.js';
import { render, type Manifest } from './kustomize.js';

const K8S = join(__dirname, '../../infra/k8s');
const TARGETS = ['overlays/local', 'overlays/production', 'examples/job-kind-lomo'];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; configMap?: { name: string } }[];
}
interface Workload extends Manifest {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface Trigger {
  type: string;
  metadata: Record<string, string>;
}
interface ScaledObjectManifest extends Manifest {
  spec: { scaleTargetRef: { name: string }; triggers: Trigger[] };
}

/** The variable names a service's schema reads (through preprocess and transform pipes). */
function variablesOf(schema: z.core.$ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return [...variablesOf(schema.in), ...variablesOf(schema.out)];
  return [];
}

/** Each image's service and the schema its environment is parsed with (a worker is a consumer). */
function schemaOfImage(image: string): z.ZodType {
  const name = basename(image.split(':')[0] ?? image);
  if (name === 'conveyor-producer') return ProducerEnv;
  if (name === 'conveyor-consumer' || name.startsWith('conveyor-worker-')) return ConsumerEnv;
  if (name === 'conveyor-notifier') return NotifierEnv;
  if (name === 'conveyor-cleanup') return CleanupEnv;
  if (name === 'conveyor-tester') return TesterEnv;
  throw new Error(`no config schema known for image ${image}`);
}

/**
 * What the Secrets the operators (or the operator of the cluster) create hold, in the shape the
 * services expect: the schemas parse these in place of values no manifest can know.
 */
const SECRET_SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgresql://conveyor:secret@conveyor-pg-rw.conveyor:5432/conveyor',
  RABBITMQ_USERNAME: 'default_user_abc',
  RABBITMQ_PASSWORD: 'c2VjcmV0LXBhc3N3b3Jk',
  WEBHOOK_SECRET: 'whsec_c2VjcmV0LXdlYmhvb2stc2VjcmV0',
  S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  S3_SECRET_ACCESS_KEY: 'secret',
};

/** The shutdown grace the message consumer gives in-flight handlers by default, from its source. */
function handlerGraceSeconds(): number {
  const source = readFileSync(join(__dirname, '../../packages/broker/src/message-consumer.ts'), 'utf8');
  const match = /shutdownGraceMs \?\? ([\d_]+)/.exec(source);
  if (!match?.[1]) throw new Error('shutdownGraceMs default not found in message-consumer.ts');
  return Number(match[1].replaceAll('_', '')) / 1000;
}

function ofKind<T extends Manifest>(manifests: Manifest[], kind: string): T[] {
  return manifests.filter((manifest) => manifest.kind === kind) as T[];
}

function configMapData(manifests: Manifest[], name: string): Record<string, string> {
  const map = ofKind<Manifest & { data?: Record<string, string> }>(manifests, 'ConfigMap').find(
    (candidate) => candidate.metadata.name === name,
  );
  if (!map) throw new Error(`ConfigMap ${name} is referenced but not rendered`);
  return map.data ?? {};
}

/**
 * A container's environment as Kubernetes gives it to the process: envFrom first, then env in
 * order, `$(NAME)` expanded; Secret values from SECRET_SAMPLES. Returns it with the problems met.
 */
function environmentOf(container: Container, manifests: Manifest[]) {
  const problems: string[] = [];
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapData(manifests, source.configMapRef.name));
    if (source.secretRef)
      problems.push(`envFrom secret ${source.secretRef.name}: its names cannot be checked`);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(
        /\$\(([A-Z0-9_]+)\)/g,
        (all, name: string) => env[name] ?? all,
      );
    } else if (variable.valueFrom?.configMapKeyRef) {
      const { name, key } = variable.valueFrom.configMapKeyRef;
      const value = configMapData(manifests, name)[key];
      if (value === undefined) problems.push(`${variable.name}: ConfigMap ${name} has no key ${key}`);
      else env[variable.name] = value;
    } else if (variable.valueFrom?.secretKeyRef) {
      const sample = SECRET_SAMPLES[variable.name];
      if (sample === undefined) problems.push(`${variable.name}: from a Secret, with no sample in this test`);
      else env[variable.name] = sample;
    } else {
      problems.push(`${variable.name}: neither a value nor a supported valueFrom`);
    }
  }
  return { env, problems };
}

const rendered = new Map(TARGETS.map((target) => [target, render(join(K8S, target))]));

describe.each(TARGETS)('infra/k8s/%s', (target) => {
  const manifests = rendered.get(target) ?? [];
  const deployments = ofKind<Workload>(manifests, 'Deployment');
  const scaledObjects = ofKind<ScaledObjectManifest>(manifests, 'ScaledObject');
  const prefix = configMapData(manifests, 'conveyor-env').AMQP_PREFIX ?? 'conveyor';

  it('renders objects that each validate against their schema', () => {
    expect(manifests.length).toBeGreaterThan(10);
    const problems = manifests.flatMap((manifest) =>
      schemaProblems(manifest).map((problem) => `${manifest.kind} ${manifest.metadata.name}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  it('runs RabbitMQ and PostgreSQL through their operators', () => {
    expect(ofKind(manifests, 'RabbitmqCluster')).toHaveLength(1);
    expect(ofKind(manifests, 'Cluster')).toHaveLength(1);
    expect(ofKind(manifests, 'StatefulSet')).toEqual([]);
    if (target !== 'overlays/local') {
      const [rabbitmq] = ofKind<Manifest & { spec: { replicas: number } }>(manifests, 'RabbitmqCluster');
      const [postgres] = ofKind<Manifest & { spec: { instances: number } }>(manifests, 'Cluster');
      expect(rabbitmq?.spec.replicas).toBe(3);
      expect(postgres?.spec.instances).toBe(2);
    }
  });

  it('gives every Deployment probes, resources, a grace period beyond the handlers’ and a PDB', () => {
    const grace = handlerGraceSeconds();
    const budgets = ofKind<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      manifests,
      'PodDisruptionBudget',
    );
    const problems: string[] = [];
    for (const deployment of deployments) {
      const { spec, metadata } = deployment.spec.template;
      const name = deployment.metadata.name;
      if ((spec.terminationGracePeriodSeconds ?? 30) <= grace)
        problems.push(`${name}: terminationGracePeriodSeconds not above the ${grace} s handler grace`);
      for (const container of spec.containers) {
        if (!container.readinessProbe) problems.push(`${name}/${container.name}: no readinessProbe`);
        if (!container.livenessProbe) problems.push(`${name}/${container.name}: no livenessProbe`);
        for (const field of ['requests.cpu', 'requests.memory', 'limits.memory']) {
          const [group, resource] = field.split('.') as ['requests' | 'limits', string];
          if (!container.resources?.[group]?.[resource])
            problems.push(`${name}/${container.name}: no resources.${field}`);
        }
      }
      const covered = budgets.some((budget) =>
        Object.entries(budget.spec.selector.matchLabels).every(
          ([key, value]) => metadata.labels[key] === value,
        ),
      );
      if (!covered) problems.push(`${name}: no PodDisruptionBudget selects its pods`);
    }
    expect(deployments.length).toBeGreaterThanOrEqual(4);
    expect(problems).toEqual([]);
  });

  it('scales every work queue with a KEDA trigger on the Deployment consuming it, the producer with an HPA', () => {
    const builtInQueues = (Object.keys(MessageCatalog) as MessageKind[])
      .filter((kind) => kind !== 'job.event')
      .map((kind) => topologyNames(prefix).workQueue(kind));
    const problems: string[] = [];
    const scaledQueues = new Set<string>();
    for (const scaledObject of scaledObjects) {
      const targetName = scaledObject.spec.scaleTargetRef.name;
      const deployment = deployments.find((candidate) => candidate.metadata.name === targetName);
      const container = deployment?.spec.template.spec.containers[0];
      if (!container) {
        problems.push(`${scaledObject.metadata.name}: no Deployment ${targetName}`);
        continue;
      }
      const { env } = environmentOf(container, manifests);
      const hostsBuiltIns = env.BUILT_IN_KINDS !== 'false';
      const modules = (env.WORKER_MODULES ?? '').split(',').filter(Boolean);
      for (const trigger of scaledObject.spec.triggers) {
        const queue = trigger.metadata.queueName ?? '';
        scaledQueues.add(queue);
        if (trigger.type !== 'rabbitmq' || trigger.metadata.mode !== 'QueueLength')
          problems.push(`${queue}: not a rabbitmq QueueLength trigger`);
        if (!/^http:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc:15672\/$/.test(trigger.metadata.host ?? ''))
          problems.push(`${queue}: host ${trigger.metadata.host} is not a namespaced management URL`);
        if (!(Number(trigger.metadata.value) > 0)) problems.push(`${queue}: no positive value`);
        const userKind = queue.startsWith(`${prefix}.job.`) && !builtInQueues.includes(queue);
        const consumed = userKind
          ? modules.some(
              (module) =>
                basename(module).replace(/\.[cm]?[jt]s$/, '') === queue.slice(`${prefix}.job.`.length),
            )
          : hostsBuiltIns && builtInQueues.includes(queue);
        if (!consumed) problems.push(`${queue}: ${targetName} does not consume it`);
      }
    }
    for (const queue of builtInQueues)
      if (!scaledQueues.has(queue)) problems.push(`${queue}: no KEDA trigger`);
    expect(problems).toEqual([]);
    const autoscalers = ofKind<Manifest & { spec: { scaleTargetRef: { name: string } } }>(
      manifests,
      'HorizontalPodAutoscaler',
    );
    expect(autoscalers.map((hpa) => hpa.spec.scaleTargetRef.name)).toEqual(['conveyor-producer']);
  });

  it('sets only environment variables the services’ config schemas know, with values they accept', () => {
    const workloads = [...deployments, ...ofKind<Workload>(manifests, 'Job')];
    const problems: string[] = [];
    for (const workload of workloads) {
      for (const container of workload.spec.template.spec.containers) {
        const where = `${workload.kind} ${workload.metadata.name}/${container.name}`;
        const schema = schemaOfImage(container.image);
        const known = new Set(variablesOf(schema));
        const { env, problems: found } = environmentOf(container, manifests);
        problems.push(...found.map((problem) => `${where}: ${problem}`));
        // A variable that only builds another's value (`$(RABBITMQ_PASSWORD)` in AMQP_URL) is fine.
        const composing = new Set(
          (container.env ?? []).flatMap((variable) =>
            [...(variable.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)].map((match) => match[1]),
          ),
        );
        for (const name of Object.keys(env))
          if (!known.has(name) && !composing.has(name))
            problems.push(`${where}: ${name} is read by no schema`);
        const parsed = schema.safeParse(env);
        if (!parsed.success)
          problems.push(
            ...parsed.error.issues.map((issue) => `${where}: ${issue.path.join('.')} ${issue.message}`),
          );
      }
    }
    expect(problems).toEqual([]);
  });

  it('runs the migrations Job on the script it mounts', () => {
    const [job] = ofKind<Workload>(manifests, 'Job');
    const pod = job?.spec.template.spec;
    const container = pod?.containers[0];
    const mount = container?.volumeMounts?.[0];
    const volume = pod?.volumes?.find((candidate) => candidate.name === mount?.name);
    expect(container?.command).toEqual(['node', `${mount?.mountPath}/migrate.mjs`]);
    const script = configMapData(manifests, volume?.configMap?.name ?? '')['migrate.mjs'];
    expect(script).toBe(readFileSync(join(K8S, 'base/migrations/migrate.mjs'), 'utf8'));
    expect(basename(container?.image.split(':')[0] ?? '')).toBe('conveyor-producer');
  });
});
