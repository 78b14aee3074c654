import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Cluster } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { Manifest } from './kustomize.js';

/** A kubernetes-models class: built from an object, `validate()` throws on a schema violation. */
type Model = new (data: never) => { validate(): void };

const models: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'postgresql.cnpg.io/v1/Cluster': Cluster,
};

/** No package ships the RabbitmqCluster CRD: its schema is kept in infra/k8s/schemas. */
const rabbitmqCluster = new Ajv({ allErrors: true }).compile(
  JSON.parse(
    readFileSync(
      join(__dirname, '../../infra/k8s/schemas/rabbitmq.com_v1beta1_rabbitmqcluster.json'),
      'utf8',
    ),
  ) as object,
);

/**
 * Validates one object against the schema of its apiVersion and kind; returns the problems
 * (none when valid). A kind without a schema here is a problem too, so nothing goes unchecked.
 */
export function schemaProblems(manifest: Manifest): string[] {
  const type = `${manifest.apiVersion}/${manifest.kind}`;
  if (type === 'rabbitmq.com/v1beta1/RabbitmqCluster') {
    if (rabbitmqCluster(manifest)) return [];
    return (rabbitmqCluster.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
  }
  const model = models[type];
  if (!model) return [`no schema for ${type}: add its model to test/infra/k8s-schemas.ts`];
  try {
    new model(manifest as never).validate();
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}
