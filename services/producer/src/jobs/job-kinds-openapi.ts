import type { OpenAPIRegistry, ZodMediaTypeObject } from '@asteasolutions/zod-to-openapi';
import { isBuiltInJobKind, SubmitJobRequest, type BuiltInJobKind } from '@conveyor/contracts';
import type { RegisteredJobKind } from '@conveyor/jobs';
import { CsvSumInput, CsvSumResult } from '@conveyor/kind-csv-sum/contract';
import { FactorizeRequest, FactorizeResult } from '@conveyor/kind-factorize/contract';
import { ImageResizeInput, ImageResizeResult } from '@conveyor/kind-image-resize/contract';
import type { z } from 'zod';

/** A schema as the document holds it: an OpenAPI 3.1 schema is a JSON Schema (2020-12). */
type SchemaObject = Exclude<NonNullable<ZodMediaTypeObject['schema']>, z.ZodType>;

/** The built-in kinds' schemas, from their zod contracts (what their workers check). */
const BUILT_IN: Record<BuiltInJobKind, { input: z.ZodType; result: z.ZodType }> = {
  factorize: { input: FactorizeRequest, result: FactorizeResult },
  'csv-sum': { input: CsvSumInput, result: CsvSumResult },
  'image-resize': { input: ImageResizeInput, result: ImageResizeResult },
};

/**
 * The same schemas named as components. Named copies (`.meta` returns one), made once: the
 * contracts' own schemas stay unnamed, since worker hosts register them as JSON Schemas too.
 */
const BUILT_IN_COMPONENTS: z.ZodType[] = Object.entries(BUILT_IN).flatMap(([kind, schemas]) => [
  schemas.input.meta({ id: `${kind}.input` }),
  schemas.result.meta({ id: `${kind}.result` }),
]);

/** image-resize jobs are made by uploading the image (POST /v1/images), never by POST /v1/jobs. */
const UPLOADED_ONLY: readonly string[] = ['image-resize'];

/** The component POST /v1/jobs's body refers to: one variant per kind that may be submitted. */
export const JOB_SUBMISSION_REF = { $ref: '#/components/schemas/JobSubmission' };

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * Every JSON object is a JSON Schema (unknown keywords are ignored), and an OpenAPI 3.1 schema
 * is a JSON Schema: what a worker host registered can go into the document as it is.
 */
function isSchemaObject(value: object): value is SchemaObject {
  return !Array.isArray(value);
}

/** A registered schema as a component: the document sets the dialect, not the schema's own `$schema`. */
function component(jsonSchema: object | null): SchemaObject {
  const schema = Object.fromEntries(
    Object.entries(jsonSchema ?? {}).filter(([keyword]) => keyword !== '$schema'),
  );
  if (!isSchemaObject(schema)) throw new Error('a JSON Schema must be an object');
  return schema;
}

/**
 * Puts each job kind's input and result in the document as `<kind>.input` and `<kind>.result`:
 * the built-in ones from their zod contracts, the registered ones from the JSON Schemas their
 * worker hosts registered; and `JobSubmission`, POST /v1/jobs's body, a variant per kind.
 * Returns the kinds' names, and the built-in kinds' schemas for the generator to add.
 */
export function registerJobKinds(
  registry: OpenAPIRegistry,
  registered: readonly RegisteredJobKind[],
): { kinds: string[]; schemas: z.ZodType[] } {
  // Worker hosts register the built-in kinds too; those keep their contracts' schemas.
  const others = registered.filter((kind) => !isBuiltInJobKind(kind.kind));
  for (const kind of others) {
    registry.registerComponent('schemas', `${kind.kind}.input`, component(kind.inputSchema));
    registry.registerComponent('schemas', `${kind.kind}.result`, component(kind.resultSchema));
  }
  const kinds = [...Object.keys(BUILT_IN), ...others.map((kind) => kind.kind)];
  registry.registerComponent('schemas', 'JobSubmission', {
    description:
      "A job to run: its kind and an input that matches the kind's input schema (`<kind>.input`); " +
      "the job's result then matches `<kind>.result`",
    oneOf: kinds
      .filter((kind) => !UPLOADED_ONLY.includes(kind))
      .map((kind) => ({
        title: kind,
        allOf: [
          ref('SubmitJobRequest'),
          {
            type: 'object',
            required: ['kind', 'input'],
            properties: { kind: { const: kind }, input: ref(`${kind}.input`) },
          },
        ],
      })),
  });
  // SubmitJobRequest goes in too: JobSubmission's variants refer to it.
  return { kinds, schemas: [SubmitJobRequest, ...BUILT_IN_COMPONENTS] };
}

/** Job's `input` and `result` in the document: one of the kinds' (the zod contract says only "any JSON"). */
export function describeKindsInJob(
  schemas: Record<string, unknown> | undefined,
  kinds: readonly string[],
): void {
  const job = schemas?.Job;
  if (typeof job !== 'object' || job === null || !('properties' in job)) return;
  const { properties } = job;
  if (typeof properties !== 'object' || properties === null) return;
  Object.assign(properties, {
    input: {
      description: "The job's input, as its kind's input schema describes it",
      anyOf: kinds.map((kind) => ref(`${kind}.input`)),
    },
    result: {
      description: "The job's result once it succeeded (else null), as its kind's result schema describes it",
      anyOf: [...kinds.map((kind) => ref(`${kind}.result`)), { type: 'null' }],
    },
  });
}
