import { isTerminal, JobStatus } from '@conveyor/contracts';
import { isFinal, JOB_STATUSES } from './job-status.js';

it('agrees with the contract on the statuses and which are final', () => {
  expect([...JOB_STATUSES]).toEqual(JobStatus.options);
  for (const status of JobStatus.options) expect(isFinal(status)).toBe(isTerminal(status));
});
