import { z } from 'zod';

/** `POST /callback` body. The id limit is configuration (CALLBACK_MAX_IDS), hence a factory. */
export function callbackBody(maxIds: number) {
  return z.strictObject({
    object_ids: z
      .array(
        z
          .number({ error: 'must be a number' })
          .int({ error: 'must be an integer' })
          .nonnegative({ error: 'must be non-negative' })
          .max(Number.MAX_SAFE_INTEGER, { error: 'must be a safe integer (at most 2^53-1)' }),
      )
      .max(maxIds, { error: `at most ${maxIds} ids per callback` }),
  });
}
export type CallbackBody = z.infer<ReturnType<typeof callbackBody>>;

export const CallbackAccepted = z
  .object({ accepted: z.number().int().nonnegative() })
  .meta({ id: 'CallbackAccepted' });
export type CallbackAccepted = z.infer<typeof CallbackAccepted>;

/** The one error body every HTTP endpoint answers with. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof ErrorBody>;
