import {
  checkCallbackUrl,
  classifyAddress,
  type AddressCategory,
  type CallbackAddressJudge,
} from '@conveyor/webhooks';
import { AppError } from '@conveyor/platform';

/**
 * Literal IPs refused at submit. The notifier's policy (loopback, private ranges and an
 * allow-list, all its own configuration) is not known here, so only addresses no receiver can
 * be at are refused now: the metadata service and link-local (SSRF targets), "this host",
 * multicast and broadcast. Anything else the notifier may still refuse at delivery; an operator
 * who allow-lists one of these ranges gives its receivers host names, which are never judged here.
 */
const NEVER_A_RECEIVER: ReadonlySet<AddressCategory> = new Set([
  'cloud_metadata',
  'link_local',
  'unspecified',
  'multicast',
  'broadcast',
]);

const SUBMIT_JUDGE: CallbackAddressJudge = {
  isHostAllowListed: () => false,
  refusalReason(ip) {
    const category = classifyAddress(ip);
    return NEVER_A_RECEIVER.has(category) ? `${ip} is a ${category.replace('_', ' ')} address` : undefined;
  },
};

/**
 * Submit-time check of a webhook URL with the rules the notifier applies before each delivery
 * (@conveyor/jobs checkCallbackUrl). Returns the canonical form, the one to store. `path` names
 * the field in the 400's details (the multipart routes take it from a form field).
 */
export function validateCallbackUrl(raw: string, path = 'body.callbackUrl'): string {
  const check = checkCallbackUrl(raw, SUBMIT_JUDGE);
  if (check.ok) return check.url.href;
  throw new AppError('invalid_callback_url', check.message, {
    status: 400,
    details: [{ path, message: check.message }],
  });
}
