import { Job, isTerminal } from '@conveyor/contracts';
import { apiJson } from '../api/api-client.js';
import { ConfirmAction } from '../ui/confirm-action.js';
import { RedeliveryAccepted } from './deliveries.schema.js';

interface JobActionsProps {
  job: Job;
  /** Told of the job as the API answered, so the page shows it at once and follows it again. */
  onChanged(job: Job | null): void;
}

/** Cancel, retry and redeliver, each asked before it acts; the outcome or refusal shows beside it. */
export function JobActions({ job, onChanged }: JobActionsProps) {
  const cancel = async () => {
    const answer = await apiJson(Job, 'DELETE', `/v1/jobs/${job.id}`);
    onChanged(answer);
    return answer.status === 'cancelled' ? 'Cancelled.' : 'Cancel requested: it stops at its next check.';
  };
  const retry = async () => {
    const answer = await apiJson(Job, 'POST', `/v1/jobs/${job.id}/retry`);
    onChanged(answer);
    return `Queued again (attempt ${answer.attempts + 1} next).`;
  };
  const redeliver = async () => {
    const answer = await apiJson(RedeliveryAccepted, 'POST', `/v1/jobs/${job.id}/deliveries/redeliver`);
    onChanged(null);
    return `Redelivery of event #${answer.sequence} (${answer.status}) queued.`;
  };
  return (
    <div class="actions" aria-label="Actions">
      <ConfirmAction
        label="Cancel job"
        question="Cancel this job?"
        danger
        disabled={isTerminal(job.status)}
        run={cancel}
      />
      <ConfirmAction
        label="Retry"
        question="Run this job again?"
        disabled={job.status !== 'failed' && job.status !== 'cancelled'}
        run={retry}
      />
      <ConfirmAction
        label="Redeliver webhook"
        question={`Push the job's latest status to ${job.callbackUrl ?? 'its callbackUrl'} again?`}
        disabled={job.callbackUrl === null}
        run={redeliver}
      />
    </div>
  );
}
