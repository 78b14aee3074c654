/**
 * Validation of a callback URL when a client submits it, so a bad URL is a 400 at once rather
 * than a day of failed deliveries. Host names are not resolved here (DNS answers change): the
 * HTTP client checks the addresses it actually connects to. Literal IPs are judged already.
 */
import { isIP } from 'node:net';
import { AddressPolicy } from './address-policy.js';

const MAX_URL_LENGTH = 2048;
const STRICT_POLICY = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });

export type CallbackUrlCheck =
  { ok: true; url: URL } | { ok: false; code: 'invalid_url' | 'address_refused'; message: string };

export function validateCallbackUrl(raw: string, policy: AddressPolicy = STRICT_POLICY): CallbackUrlCheck {
  if (raw.length > MAX_URL_LENGTH) {
    return invalid(`The callback URL must be at most ${MAX_URL_LENGTH} characters.`);
  }
  // The WHATWG parser refuses http(s) URLs without a host, so a parsed URL always names one.
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined) {
    return invalid(
      'The callback URL must be an absolute URL with a host, such as https://example.com/hooks.',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return invalid(`The callback URL must use https or http, not ${url.protocol.slice(0, -1)}.`);
  }
  if (url.username !== '' || url.password !== '') {
    return invalid(
      'The callback URL must not contain credentials: authenticate with the webhook signature instead.',
    );
  }
  // Any "#" starts a fragment, even an empty one that URL.hash does not show; it is never sent.
  if (raw.includes('#')) return invalid('The callback URL must not contain a fragment (#...).');
  const refusal = hostRefusal(url.hostname, policy);
  return refusal === undefined ? { ok: true, url } : { ok: false, code: 'address_refused', message: refusal };
}

/** URL.hostname of an IPv6 literal keeps its brackets: [::1] → ::1. */
function hostnameToAddress(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function hostRefusal(hostname: string, policy: AddressPolicy): string | undefined {
  if (policy.isHostAllowListed(hostname)) return undefined;
  const address = hostnameToAddress(hostname);
  // The URL parser already turned the odd IPv4 spellings (2130706433, 0x7f.1, 127.1) into dotted form.
  if (isIP(address) === 0) return undefined;
  const reason = policy.refusalReason(address);
  return reason === undefined ? undefined : `The callback URL's host is not allowed: ${reason}.`;
}

function invalid(message: string): CallbackUrlCheck {
  return { ok: false, code: 'invalid_url', message };
}
