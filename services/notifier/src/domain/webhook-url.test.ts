import { AddressPolicy } from './address-policy.js';
import { validateCallbackUrl } from './webhook-url.js';

const loopbackAllowed = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });

// The syntax rules themselves are tested with the shared checker (packages/jobs/src/callback-url.test.ts);
// these prove the notifier applies them at delivery and judges literal hosts by its policy.
describe('validateCallbackUrl', () => {
  it.each(['https://example.com/hooks', 'https://93.184.215.14/x', 'https://[2606:4700::1]/'])(
    'accepts %s',
    (raw) => {
      expect(validateCallbackUrl(raw)).toEqual({ ok: true, url: new URL(raw) });
    },
  );

  it('refuses at delivery the URL ending in an empty fragment that submit once let through', () => {
    expect(validateCallbackUrl('http://example.com/#')).toMatchObject({
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
    const check = validateCallbackUrl(raw);
    expect(check).toMatchObject({ ok: false, code: 'address_refused' });
    expect(check.ok || check.message).toMatch(/^The callback URL's host is not allowed: /);
  });

  it('names the metadata service behind an IPv4-translated literal', () => {
    expect(validateCallbackUrl('http://[::ffff:0:169.254.169.254]/')).toEqual({
      ok: false,
      code: 'address_refused',
      message: "The callback URL's host is not allowed: ::ffff:0:a9fe:a9fe is a cloud metadata address.",
    });
  });

  it('leaves host names to the connect-time check, localhost included', () => {
    expect(validateCallbackUrl('http://localhost:3000/').ok).toBe(true);
  });

  it('lets the policy open loopback and allow-listed hosts', () => {
    expect(validateCallbackUrl('http://127.0.0.1:8080/', loopbackAllowed).ok).toBe(true);
    expect(validateCallbackUrl('http://[::ffff:0:127.0.0.1]:8080/', loopbackAllowed).ok).toBe(true);
    expect(validateCallbackUrl('http://10.0.0.1/', loopbackAllowed).ok).toBe(false);
    const allowListed = new AddressPolicy({
      allowLoopback: false,
      allowPrivate: false,
      allowList: ['10.0.0.0/24'],
    });
    expect(validateCallbackUrl('http://10.0.0.1/', allowListed).ok).toBe(true);
  });
});
