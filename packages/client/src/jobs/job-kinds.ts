import type { Job as ApiJob } from '@conveyor/contracts';
import type { CsvSumInput, CsvSumResult } from '@conveyor/kind-csv-sum/contract';
import type { FactorizeResult } from '@conveyor/kind-factorize/contract';
import type { ImageResizeInput, ImageResizeResult } from '@conveyor/kind-image-resize/contract';
import type { z } from 'zod';

/**
 * The kinds Conveyor ships with, typed from their own contracts. Inputs are what the API
 * accepts (`z.input`: defaults may be left out; factorize takes a safe integer too), results what
 * it returns.
 */
export interface BuiltInJobKinds {
  factorize: { input: { number: string | number }; result: FactorizeResult };
  'csv-sum': { input: z.input<typeof CsvSumInput>; result: CsvSumResult };
  'image-resize': { input: ImageResizeInput; result: ImageResizeResult };
}

/**
 * Your own job kinds, added by declaration merging:
 *
 * ```ts
 * declare module '@conveyor/client' {
 *   interface JobKinds {
 *     thumbnail: { input: { url: string; size: number }; result: { bytes: number } };
 *   }
 * }
 * ```
 *
 * A kind named nowhere is still accepted, with `unknown` input and result.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: users merge into it
export interface JobKinds {}

type KnownKinds = BuiltInJobKinds & JobKinds;

/** A kind's name: a known one (autocompleted) or any other string. */
export type KindName = keyof KnownKinds | (string & {});

export type InputOf<K extends string> = K extends keyof KnownKinds ? KnownKinds[K]['input'] : unknown;
export type ResultOf<K extends string> = K extends keyof KnownKinds ? KnownKinds[K]['result'] : unknown;

/** A kind POST /v1/jobs accepts: image-resize jobs are created by uploading the image (never). */
export type SubmittableKind<K extends string> = K extends 'image-resize' ? never : K;

/** A job as the API shows it, its input and result typed by its kind. */
export type Job<K extends string = string> = Omit<ApiJob, 'kind' | 'input' | 'result'> & {
  kind: K;
  input: InputOf<K>;
  result: ResultOf<K> | null;
};
