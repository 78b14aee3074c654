/**
 * The one set of rules for a webhook callback URL, applied when a client submits it (producer)
 * and again before every delivery (notifier): a URL accepted at submit can only be refused at
 * delivery for where it points, never for its syntax. Host names are not resolved here (DNS
 * answers change): the notifier's HTTP client checks the addresses it actually connects to.
 * Literal IPs are judged by the caller's address policy.
 */
import { ipFamilyOf } from './address-category.js';

export const CALLBACK_URL_MAX_LENGTH = 2048;

/** Where webhooks may go, as far as the caller knows it (the notifier's AddressPolicy is one). */
export interface CallbackAddressJudge {
  /** An operator-trusted host name: never refused, whatever it is. */
  isHostAllowListed(hostname: string): boolean;
  /** Why a literal IP is refused; undefined when it is allowed. */
  refusalReason(ip: string): string | undefined;
}

export type CallbackUrlCheck =
  { ok: true; url: URL } | { ok: false; code: 'invalid_url' | 'address_refused'; message: string };

/**
 * `url.href` is the canonical form to store: checking it again gives the same verdict, so what
 * the producer stores is what the notifier accepts.
 */
export function checkCallbackUrl(raw: string, judge: CallbackAddressJudge): CallbackUrlCheck {
  // Counted before parsing, so a megabyte of URL costs nothing; the canonical form again below.
  if (raw.length > CALLBACK_URL_MAX_LENGTH) return tooLong();
  // The parser would silently drop tabs and newlines and trim spaces or percent-encode them
  // (NUL included): a URL that only works after such repairs is refused, not rewritten.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\x00-\x20\x7f]/.test(raw)) {
    return invalid('The callback URL must not contain spaces or control characters: percent-encode them.');
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
  // Percent-encoding non-ASCII characters can make the canonical form longer than the input.
  if (url.href.length > CALLBACK_URL_MAX_LENGTH) return tooLong();
  const refusal = hostRefusal(url.hostname, judge);
  return refusal === undefined ? { ok: true, url } : { ok: false, code: 'address_refused', message: refusal };
}

/** URL.hostname of an IPv6 literal keeps its brackets: [::1] → ::1. */
function hostnameToAddress(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function hostRefusal(hostname: string, judge: CallbackAddressJudge): string | undefined {
  if (judge.isHostAllowListed(hostname)) return undefined;
  const address = hostnameToAddress(hostname);
  // The URL parser already turned the odd IPv4 spellings (2130706433, 0x7f.1, 127.1) into dotted form.
  if (ipFamilyOf(address) === undefined) return undefined;
  const reason = judge.refusalReason(address);
  return reason === undefined ? undefined : `The callback URL's host is not allowed: ${reason}.`;
}

function tooLong(): CallbackUrlCheck {
  return invalid(`The callback URL must be at most ${CALLBACK_URL_MAX_LENGTH} characters.`);
}

function invalid(message: string): CallbackUrlCheck {
  return { ok: false, code: 'invalid_url', message };
}
