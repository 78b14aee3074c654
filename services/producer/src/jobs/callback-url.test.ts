import { AppError } from '@conveyor/platform';
import { validateCallbackUrl } from './callback-url.js';

function refusalOf(raw: string, path?: string): AppError {
  try {
    validateCallbackUrl(raw, path);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`${raw} was accepted`);
}

describe('validateCallbackUrl (submit)', () => {
  it('returns the canonical form, which is what gets stored and later delivered to', () => {
    expect(validateCallbackUrl('HTTPS://Example.COM/hooks/../in?a=1')).toBe('https://example.com/in?a=1');
  });

  it('refuses a URL ending in an empty fragment, which the notifier would refuse on every delivery', () => {
    const error = refusalOf('http://example.com/#');
    expect(error).toMatchObject({ code: 'invalid_callback_url', status: 400 });
    expect(error.details).toEqual([
      { path: 'body.callbackUrl', message: 'The callback URL must not contain a fragment (#...).' },
    ]);
  });

  it('names the field it was given (the multipart routes read a form field)', () => {
    expect(refusalOf('http://exa mple.com/', 'callbackUrl').details).toEqual([
      {
        path: 'callbackUrl',
        message: 'The callback URL must not contain spaces or control characters: percent-encode them.',
      },
    ]);
    expect(
      refusalOf(`https://example.com/${'a'.repeat(5_000)}`, 'callbackUrl').details?.[0]?.message,
    ).toContain('at most 2048');
    expect(refusalOf('https://example.com/\0').details?.[0]?.path).toBe('body.callbackUrl');
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:0:169.254.169.254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://169.254.10.1/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
  ])('refuses %s, where no receiver can be', (raw) => {
    expect(refusalOf(raw)).toMatchObject({
      code: 'invalid_callback_url',
      status: 400,
      message: expect.stringMatching(/^The callback URL's host is not allowed: /),
    });
  });

  // The notifier may be configured to allow these (allowLoopback, allowPrivate, its allow-list).
  it.each([
    'http://127.0.0.1:8080/hooks',
    'http://10.0.0.1/',
    'http://[fd12::1]/',
    'http://localhost/',
    'http://metadata.google.internal/',
  ])('leaves %s to the notifier, whose policy it does not know', (raw) => {
    expect(validateCallbackUrl(raw)).toBe(new URL(raw).href);
  });
});
