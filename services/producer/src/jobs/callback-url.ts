import { AppError } from '@conveyor/platform';
import { checkCallbackUrl, SUBMIT_ADDRESS_POLICY } from '@conveyor/webhooks';

/**
 * Submit-time check of a webhook URL with the rules the notifier applies before each delivery
 * (@conveyor/webhooks checkCallbackUrl). Returns the canonical form, the one to store. `path` names
 * the field in the 400's details (the multipart routes take it from a form field).
 */
export function validateCallbackUrl(raw: string, path = 'body.callbackUrl'): string {
  const check = checkCallbackUrl(raw, SUBMIT_ADDRESS_POLICY);
  if (check.ok) return check.url.href;
  throw new AppError('invalid_callback_url', check.message, {
    status: 400,
    details: [{ path, message: check.message }],
  });
}
