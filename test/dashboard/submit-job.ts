import { Job } from '@conveyor/contracts';
import { request } from '../harness.js';

/** POST /v1/jobs as a client would; the answer parsed as the contract's Job. */
export async function submitJob(
  port: number,
  kind: string,
  input: unknown,
  extra: Record<string, unknown> = {},
): Promise<Job> {
  const { status, body } = await request(port, 'POST', '/v1/jobs', { kind, input, ...extra });
  expect(status).toBe(202);
  return Job.parse(body);
}
