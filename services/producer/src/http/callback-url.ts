import { AppError } from '@conveyor/platform';

/**
 * Submit-time check of a webhook URL: http(s) only, no credentials, no fragment. Where it may
 * point (no private or metadata addresses) is checked again at delivery, on the address
 * actually connected to.
 */
export function validateCallbackUrl(raw: string): string {
  const refuse = (message: string) => new AppError('invalid_callback_url', message, { status: 400, details: [{ path: 'body.callbackUrl', message }] });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('callbackUrl must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`callbackUrl must use http or https, not ${url.protocol.replace(':', '')}`);
  if (url.username || url.password) throw refuse('callbackUrl must not contain credentials; the request is signed instead');
  if (url.hash) throw refuse('callbackUrl must not contain a fragment');
  return url.toString();
}
