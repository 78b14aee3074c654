/**
 * The notifier's check of a callback URL before each delivery: the shared rules of
 * @conveyor/jobs (the ones the producer applied at submit), with literal IPs judged by this
 * notifier's address policy, strict unless the caller passes its configured one.
 */
import { checkCallbackUrl, type CallbackUrlCheck } from '@conveyor/webhooks';
import { AddressPolicy } from './address-policy.js';

const STRICT_POLICY = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });

export function validateCallbackUrl(raw: string, policy: AddressPolicy = STRICT_POLICY): CallbackUrlCheck {
  return checkCallbackUrl(raw, policy);
}
