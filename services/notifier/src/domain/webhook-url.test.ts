import { AddressPolicy } from './address-policy.js';
import { validateCallbackUrl } from './webhook-url.js';

const loopbackAllowed = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });

describe('validateCallbackUrl', () => {
  it.each([
    'https://example.com/hooks',
    'http://example.com:8080/a?b=c',
    'https://93.184.215.14/x',
    'https://[2606:4700::1]/',
  ])('accepts %s', (raw) => {
    const check = validateCallbackUrl(raw);
    expect(check).toEqual({ ok: true, url: new URL(raw) });
  });

  it.each([
    ['not a URL', 'example.com/hooks', 'absolute URL'],
    ['another scheme', 'ftp://example.com/', 'https or http, not ftp'],
    ['javascript', 'javascript:alert(1)', 'https or http'],
    ['credentials', 'https://user:pass@example.com/', 'credentials'],
    ['a user alone', 'https://user@example.com/', 'credentials'],
    ['a fragment', 'https://example.com/#section', 'fragment'],
    ['an empty fragment', 'https://example.com/#', 'fragment'],
    ['another scheme without a host', 'file:///etc/passwd', 'https or http'],
    ['no host', 'https://', 'with a host'],
    ['only a port', 'http://:8080/', 'with a host'],
    ['too much length', `https://example.com/${'a'.repeat(2048)}`, 'at most 2048'],
  ])('refuses %s', (_case, raw, messagePart) => {
    const check = validateCallbackUrl(raw);
    expect(check).toMatchObject({ ok: false, code: 'invalid_url' });
    expect(check.ok || check.message).toContain(messagePart);
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
  ])('refuses the forbidden host of %s', (raw) => {
    const check = validateCallbackUrl(raw);
    expect(check).toMatchObject({ ok: false, code: 'address_refused' });
    expect(check.ok || check.message).toMatch(/^The callback URL's host is not allowed: /);
  });

  it('leaves host names to the connect-time check, localhost included', () => {
    expect(validateCallbackUrl('http://localhost:3000/').ok).toBe(true);
  });

  it('lets the policy open loopback and allow-listed hosts', () => {
    expect(validateCallbackUrl('http://127.0.0.1:8080/', loopbackAllowed).ok).toBe(true);
    expect(validateCallbackUrl('http://10.0.0.1/', loopbackAllowed).ok).toBe(false);
    const allowListed = new AddressPolicy({
      allowLoopback: false,
      allowPrivate: false,
      allowList: ['10.0.0.0/24'],
    });
    expect(validateCallbackUrl('http://10.0.0.1/', allowListed).ok).toBe(true);
  });
});
