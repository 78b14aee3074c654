import { isTerminal, JobStatus } from '@conveyor/contracts';
import { isFinal } from './job-status.js';

it('agrees with the contract on which statuses are final', () => {
  for (const status of JobStatus.options) expect(isFinal(status)).toBe(isTerminal(status));
});
