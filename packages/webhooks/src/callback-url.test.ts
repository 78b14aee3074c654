import { AddressPolicy } from './address-policy.js';
import { CALLBACK_URL_MAX_LENGTH, checkCallbackUrl, type CallbackAddressJudge } from './callback-url.js';

/** Allows every address: the syntax rules alone. */
const ANY_ADDRESS: CallbackAddressJudge = { isHostAllowListed: () => false, refusalReason: () => undefined };

/** Refuses one literal and remembers which addresses it was asked about. */
function judgeRefusing(
  refused: string,
  allowListedHost?: string,
): CallbackAddressJudge & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isHostAllowListed: (hostname) => hostname === allowListedHost,
    refusalReason: (ip) => {
      asked.push(ip);
      return ip === refused ? `${ip} is refused` : undefined;
    },
  };
}

describe('checkCallbackUrl', () => {
  it.each([
    'https://example.com/hooks',
    'http://example.com:8080/a?b=c',
    'https://93.184.215.14/x',
    'https://[2606:4700::1]/',
    'https://bücher.example/ä',
  ])('accepts %s', (raw) => {
    expect(checkCallbackUrl(raw, ANY_ADDRESS)).toEqual({ ok: true, url: new URL(raw) });
  });

  it.each([
    ['not a URL', 'example.com/hooks', 'absolute URL'],
    ['another scheme', 'ftp://example.com/', 'https or http, not ftp'],
    ['javascript', 'javascript:alert(1)', 'https or http'],
    ['credentials', 'https://user:pass@example.com/', 'credentials'],
    ['a user alone', 'https://user@example.com/', 'credentials'],
    ['a fragment', 'https://example.com/#section', 'fragment'],
    ['an empty fragment', 'http://example.com/#', 'fragment'],
    ['an empty fragment after a query', 'http://example.com/?a=1#', 'fragment'],
    ['another scheme without a host', 'file:///etc/passwd', 'https or http'],
    ['no host', 'https://', 'with a host'],
    ['only a port', 'http://:8080/', 'with a host'],
    ['too much length', `https://example.com/${'a'.repeat(CALLBACK_URL_MAX_LENGTH)}`, 'at most 2048'],
    ['a NUL byte', 'https://example.com/a\0b', 'control characters'],
    ['a space', 'https://example.com/a b', 'spaces'],
    ['a leading space', ' https://example.com/', 'spaces'],
    ['a newline the parser would drop', 'https://exam\nple.com/', 'control characters'],
    ['a tab', 'https://example.com/\t', 'control characters'],
    ['DEL', 'https://example.com/\x7f', 'control characters'],
  ])('refuses %s', (_case, raw, messagePart) => {
    const check = checkCallbackUrl(raw, ANY_ADDRESS);
    expect(check).toMatchObject({ ok: false, code: 'invalid_url' });
    expect(check.ok || check.message).toContain(messagePart);
  });

  it('measures the canonical form too: percent-encoding may push it past the limit', () => {
    // 1,100 characters as typed, 6,600 once each "é" becomes %C3%A9.
    const raw = `https://example.com/${'é'.repeat(1_100)}`;
    expect(raw.length).toBeLessThan(CALLBACK_URL_MAX_LENGTH);
    expect(checkCallbackUrl(raw, ANY_ADDRESS)).toMatchObject({
      ok: false,
      code: 'invalid_url',
      message: expect.stringContaining('at most 2048'),
    });
  });

  it('gives the same verdict on the canonical form it returns (what the producer stores)', () => {
    for (const raw of [
      'HTTPS://Example.COM:443/a/../b?c=d',
      'http://bücher.example/ä?q=ü',
      'http://0x7f.1/',
      'http://[::FFFF:0:169.254.169.254]/x',
    ]) {
      const first = checkCallbackUrl(raw, ANY_ADDRESS);
      if (!first.ok) throw new Error(`${raw} was refused: ${first.message}`);
      expect(checkCallbackUrl(first.url.href, ANY_ADDRESS)).toEqual(first);
    }
  });

  it('judges literal IPs only, in the form the URL parser wrote them', () => {
    const judge = judgeRefusing('127.0.0.1');
    expect(checkCallbackUrl('http://0x7f.1/', judge)).toEqual({
      ok: false,
      code: 'address_refused',
      message: "The callback URL's host is not allowed: 127.0.0.1 is refused.",
    });
    expect(checkCallbackUrl('http://[::ffff:0:169.254.169.254]/', judge).ok).toBe(true);
    expect(checkCallbackUrl('http://localhost/', judge).ok).toBe(true);
    expect(judge.asked).toEqual(['127.0.0.1', '::ffff:0:a9fe:a9fe']);
  });

  it('lets an allow-listed host through without judging it', () => {
    const judge = judgeRefusing('10.0.0.1', '10.0.0.1');
    expect(checkCallbackUrl('http://10.0.0.1/', judge).ok).toBe(true);
    expect(judge.asked).toEqual([]);
  });
});

const STRICT = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });
const loopbackAllowed = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });

// The check the notifier runs before each delivery: the rules above, literal hosts judged by its policy.
describe('checkCallbackUrl with an AddressPolicy', () => {
  it.each(['https://example.com/hooks', 'https://93.184.215.14/x', 'https://[2606:4700::1]/'])(
    'accepts %s',
    (raw) => {
      expect(checkCallbackUrl(raw, STRICT)).toEqual({ ok: true, url: new URL(raw) });
    },
  );

  it('refuses a URL ending in an empty fragment', () => {
    expect(checkCallbackUrl('http://example.com/#', STRICT)).toMatchObject({
      ok: false,
      code: 'invalid_url',
      message: expect.stringContaining('fragment'),
    });
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://127.0.0.1:8080/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00:ec2::254]/',
    'http://0.0.0.0/',
    // IPv4-translated (RFC 6145): the metadata service behind an IPv6 spelling.
    'http://[::ffff:0:169.254.169.254]/',
    'http://[::ffff:0:a9fe:a9fe]/latest/meta-data/',
  ])('refuses the forbidden host of %s', (raw) => {
    const check = checkCallbackUrl(raw, STRICT);
    expect(check).toMatchObject({ ok: false, code: 'address_refused' });
    expect(check.ok || check.message).toMatch(/^The callback URL's host is not allowed: /);
  });

  it('names the metadata service behind an IPv4-translated literal', () => {
    expect(checkCallbackUrl('http://[::ffff:0:169.254.169.254]/', STRICT)).toEqual({
      ok: false,
      code: 'address_refused',
      message: "The callback URL's host is not allowed: ::ffff:0:a9fe:a9fe is a cloud metadata address.",
    });
  });

  it('leaves host names to the connect-time check, localhost included', () => {
    expect(checkCallbackUrl('http://localhost:3000/', STRICT).ok).toBe(true);
  });

  it('lets the policy open loopback and allow-listed hosts', () => {
    expect(checkCallbackUrl('http://127.0.0.1:8080/', loopbackAllowed).ok).toBe(true);
    expect(checkCallbackUrl('http://[::ffff:0:127.0.0.1]:8080/', loopbackAllowed).ok).toBe(true);
    expect(checkCallbackUrl('http://10.0.0.1/', loopbackAllowed).ok).toBe(false);
    const allowListed = new AddressPolicy({
      allowLoopback: false,
      allowPrivate: false,
      allowList: ['10.0.0.0/24'],
    });
    expect(checkCallbackUrl('http://10.0.0.1/', allowListed).ok).toBe(true);
  });
});
