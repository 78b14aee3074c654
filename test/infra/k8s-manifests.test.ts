/**
 * The Kubernetes manifests under infra/k8s, checked offline: each overlay (and the user-kind
 * example) is rendered by the real kustomize and every object validated against its schema
 * (the core API's, KEDA's, CloudNativePG's, the RabbitmqCluster's), then held to what the
 * services need: probes, resources, a grace period beyond the handlers', a disruption budget
 * per Deployment and Deployments whose selectors never overlap, a consumer fleet per work queue
 * scaled by a KEDA trigger on that queue alone, and only environment variables that the
 * service's own config schema knows, with values it accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { MessageCatalog, topologyNames, type MessageKind } from '@conveyor/contracts';
import { CleanupEnv } from '../../services/cleanup/src/config.js';
import { BUILT_IN_WORK, ConsumerEnv, type BuiltInWork } from '../../services/consumer/src/config.js';
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
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
interface Workload extends Manifest {
  spec: {
    selector?: LabelSelector;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
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

/** The work queue's message kind of each built-in kind of work BUILT_IN_KINDS names. */
function messageKindOf(work: BuiltInWork): MessageKind {
  return work === 'object-check' ? 'object.check' : `job.${work}`;
}

/** Whether a selector (matchLabels only: the manifests use nothing else) picks pods so labelled. */
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector?.matchLabels || selector.matchExpressions) return false;
  return Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
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
    const budgets = ofKind<Manifest & { spec: { selector: LabelSelector } }>(
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
      const covered = budgets.some((budget) => selects(budget.spec.selector, metadata.labels));
      if (!covered) problems.push(`${name}: no PodDisruptionBudget selects its pods`);
    }
    // A budget over two Deployments' pods would let a drain take one from each at once.
    for (const budget of budgets) {
      const selected = deployments.filter((deployment) =>
        selects(budget.spec.selector, deployment.spec.template.metadata.labels),
      );
      if (selected.length > 1)
        problems.push(
          `PodDisruptionBudget ${budget.metadata.name} selects the pods of ${selected.map((d) => d.metadata.name).join(', ')}`,
        );
    }
    expect(deployments.length).toBeGreaterThanOrEqual(4);
    expect(problems).toEqual([]);
  });

  it('gives every Deployment a selector of its own, matching no other Deployment’s pods', () => {
    const problems: string[] = [];
    for (const deployment of deployments) {
      const { selector } = deployment.spec;
      const name = deployment.metadata.name;
      if (!selector?.matchLabels || selector.matchExpressions)
        problems.push(`${name}: the selector is not matchLabels alone`);
      if (!selects(selector, deployment.spec.template.metadata.labels))
        problems.push(`${name}: the selector does not match its own pods`);
      for (const other of deployments)
        if (other !== deployment && selects(selector, other.spec.template.metadata.labels))
          problems.push(`${name}: the selector matches the pods of ${other.metadata.name}`);
    }
    expect(problems).toEqual([]);
  });

  it('runs each built-in work queue in a fleet of its own, scaled by one trigger on that queue', () => {
    const names = topologyNames(prefix);
    const queueOf = (work: BuiltInWork) => names.workQueue(messageKindOf(work));
    const catalogQueues = (Object.keys(MessageCatalog) as MessageKind[])
      .filter((kind) => kind !== 'job.event')
      .map((kind) => names.workQueue(kind));
    // The consumer's kinds of work and the catalog's work queues are the same set.
    expect(BUILT_IN_WORK.map(queueOf).sort()).toEqual([...catalogQueues].sort());
    const problems: string[] = [];
    for (const work of BUILT_IN_WORK) {
      const queue = queueOf(work);
      const scaling = scaledObjects.filter((scaledObject) =>
        scaledObject.spec.triggers.some((trigger) => trigger.metadata.queueName === queue),
      );
      const [scaledObject] = scaling;
      if (scaling.length !== 1 || !scaledObject) {
        problems.push(`${queue}: ${scaling.length} ScaledObjects, not 1`);
        continue;
      }
      const where = `${queue}: ScaledObject ${scaledObject.metadata.name}`;
      if (scaledObject.spec.triggers.length !== 1)
        problems.push(`${where} has ${scaledObject.spec.triggers.length} triggers, not 1`);
      const targetName = scaledObject.spec.scaleTargetRef.name;
      const container = deployments.find((candidate) => candidate.metadata.name === targetName)?.spec.template
        .spec.containers[0];
      if (!container) {
        problems.push(`${where} targets no Deployment (${targetName})`);
        continue;
      }
      const parsed = ConsumerEnv.safeParse(environmentOf(container, manifests).env);
      if (!parsed.success) problems.push(`${where}: ${targetName}'s environment does not parse`);
      else if (parsed.data.BUILT_IN_KINDS.join(',') !== work)
        problems.push(
          `${where}: ${targetName} runs BUILT_IN_KINDS [${parsed.data.BUILT_IN_KINDS.join(', ')}]`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('scales every work queue with a KEDA trigger on the Deployment consuming it, the producer with an HPA', () => {
    const names = topologyNames(prefix);
    const builtInQueues = (Object.keys(MessageCatalog) as MessageKind[])
      .filter((kind) => kind !== 'job.event')
      .map((kind) => names.workQueue(kind));
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
      const parsed = ConsumerEnv.safeParse(environmentOf(container, manifests).env);
      const hosted = parsed.success ? parsed.data : { BUILT_IN_KINDS: [], WORKER_MODULES: [] };
      const builtInHosted = hosted.BUILT_IN_KINDS.map((work) => names.workQueue(messageKindOf(work)));
      const modules = hosted.WORKER_MODULES;
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
          : builtInHosted.includes(queue);
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

  it('runs the migrations Job as the producer image’s migrate command', () => {
    const [job] = ofKind<Workload>(manifests, 'Job');
    const container = job?.spec.template.spec.containers[0];
    expect(container?.command).toEqual(['node', 'dist/cli/migrate.js']);
    // The image's WORKDIR is the service's deployed folder: the command is the built CLI.
    expect(existsSync(join(__dirname, '../../services/producer/src/cli/migrate.ts'))).toBe(true);
    expect(basename(container?.image.split(':')[0] ?? '')).toBe('conveyor-producer');
  });
});
