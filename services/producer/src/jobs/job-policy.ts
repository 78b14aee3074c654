import type { SubmitJobRequest } from '@conveyor/contracts';
import { AppError } from '@conveyor/platform';

/** A kind's own limits, as its worker hosts registered them; what a job may ask for within. */
export interface KindPolicyLimits {
  timeoutMs: number | null;
  maxAttempts: number;
}

/** A job's own policy: what its submit asked for, checked against its kind's limits. */
export interface JobPolicy {
  timeoutMs?: number;
  maxAttempts?: number;
}

/**
 * The submit's `timeoutMs` and `retry.maxAttempts`, each at most its kind's (422 naming the field
 * beyond it). A kind no worker host has registered yet has no known limits here: the host clamps
 * the job to its own when it runs it, so a job never runs longer or more often than its kind allows.
 */
export function jobPolicyOf(
  request: Pick<SubmitJobRequest, 'kind' | 'timeoutMs' | 'retry'>,
  limits: KindPolicyLimits | undefined,
  pathPrefix = 'body.',
): JobPolicy {
  const { timeoutMs } = request;
  const maxAttempts = request.retry?.maxAttempts;
  if (limits && timeoutMs !== undefined && limits.timeoutMs !== null && timeoutMs > limits.timeoutMs)
    throw beyondKind(
      request.kind,
      `${pathPrefix}timeoutMs`,
      `at most ${limits.timeoutMs} ms, the kind's timeout`,
    );
  if (limits && maxAttempts !== undefined && maxAttempts > limits.maxAttempts)
    throw beyondKind(
      request.kind,
      `${pathPrefix}retry.maxAttempts`,
      `at most ${limits.maxAttempts}, the kind's most attempts`,
    );
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  };
}

function beyondKind(kind: string, path: string, message: string): AppError {
  return new AppError(
    'policy_exceeds_kind',
    `${path} asks for more than the ${kind} kind allows: ${message}`,
    {
      status: 422,
      details: [{ path, message }],
    },
  );
}
