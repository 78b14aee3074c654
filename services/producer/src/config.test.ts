import { ConfigError, loadConfig } from '@conveyor/platform';
import { ProducerEnv } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(ProducerEnv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('ProducerEnv: callback access and HTTP limits', () => {
  it('defaults to no keyless callers, an ops port of its own and bounded sockets', () => {
    const config = loadConfig(ProducerEnv, {});
    expect(config).toMatchObject({
      OPS_PORT: 9094,
      CALLBACK_SECRET_HEADER: 'x-callback-secret',
      CALLBACK_ALLOWED_SOURCES: [],
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 300_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
      HTTP_MAX_CONNECTIONS: 5_000,
    });
    expect(config.CALLBACK_SHARED_SECRET).toBeUndefined();
  });

  it('reads the allow-list as trimmed addresses and ranges, and the header name in lower case', () => {
    const config = loadConfig(ProducerEnv, {
      CALLBACK_ALLOWED_SOURCES: ' 10.1.0.0/16, 2001:db8::/32 ,203.0.113.7',
      CALLBACK_SECRET_HEADER: 'X-Upstream-Token',
    });
    expect(config.CALLBACK_ALLOWED_SOURCES).toEqual(['10.1.0.0/16', '2001:db8::/32', '203.0.113.7']);
    expect(config.CALLBACK_SECRET_HEADER).toBe('x-upstream-token');
  });

  it('names every bad variable', () => {
    const problems = problemsOf({
      CALLBACK_ALLOWED_SOURCES: '10.0.0.0/8,upstream.example,10.0.0.0/40',
      CALLBACK_SHARED_SECRET: 'short',
      CALLBACK_SECRET_HEADER: 'bad header',
      HTTP_MAX_CONNECTIONS: '0',
    });
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CALLBACK_SHARED_SECRET: must be at least 16 characters/),
        expect.stringMatching(/^CALLBACK_SECRET_HEADER: must be a header name/),
        expect.stringMatching(
          /^CALLBACK_ALLOWED_SOURCES: "upstream.example" is not an address or a CIDR range/,
        ),
        expect.stringMatching(/^CALLBACK_ALLOWED_SOURCES: "10.0.0.0\/40" is not an address or a CIDR range/),
        expect.stringMatching(/^HTTP_MAX_CONNECTIONS: must be at least 1/),
      ]),
    );
  });
});
