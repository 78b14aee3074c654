import { loadTesterConfig } from './config.js';

describe('loadTesterConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(loadTesterConfig({})).toEqual({
      objectsApi: { port: 9010, minDelayMs: 300, maxDelayMs: 4300 },
      callbackSender: {
        enabled: true,
        targetUrl: 'http://127.0.0.1:9090/callback',
        intervalMs: 5000,
        maxIds: 200,
        idRange: 1000,
        timeoutMs: 1000,
      },
    });
  });

  it('reads every variable', () => {
    const config = loadTesterConfig({
      SIMULATOR_PORT: '9999',
      SIMULATOR_MIN_DELAY_MS: '0',
      SIMULATOR_MAX_DELAY_MS: '50',
      SENDER_TARGET_URL: 'https://producer.internal/callback',
      SENDER_INTERVAL_MS: '100',
      SENDER_MAX_IDS: '5',
      SENDER_ID_RANGE: '10',
      SENDER_TIMEOUT_MS: '250',
      SENDER_ENABLED: 'false',
    });
    expect(config).toEqual({
      objectsApi: { port: 9999, minDelayMs: 0, maxDelayMs: 50 },
      callbackSender: {
        enabled: false,
        targetUrl: 'https://producer.internal/callback',
        intervalMs: 100,
        maxIds: 5,
        idRange: 10,
        timeoutMs: 250,
      },
    });
  });

  it('reports every invalid variable at once, one line each', () => {
    const load = () =>
      loadTesterConfig({
        SIMULATOR_PORT: '70000',
        SENDER_TARGET_URL: 'not a url',
        SENDER_INTERVAL_MS: 'soon',
        SENDER_MAX_IDS: '0',
        SENDER_TIMEOUT_MS: '1.5',
        SENDER_ENABLED: 'maybe',
      });
    expect(load).toThrow(Error);
    const lines = messageOf(load).split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('invalid configuration:');
    for (const variable of [
      'SIMULATOR_PORT',
      'SENDER_TARGET_URL',
      'SENDER_INTERVAL_MS',
      'SENDER_MAX_IDS',
      'SENDER_TIMEOUT_MS',
      'SENDER_ENABLED',
    ]) {
      expect(lines.filter((line) => line.includes(variable))).toHaveLength(1);
    }
    expect(lines).toContain('  SENDER_INTERVAL_MS: must be a positive integer (got "soon")');
  });

  it('rejects a maximum delay below the minimum', () => {
    expect(() => loadTesterConfig({ SIMULATOR_MIN_DELAY_MS: '500', SIMULATOR_MAX_DELAY_MS: '100' })).toThrow(
      /SIMULATOR_MAX_DELAY_MS: must not be less than SIMULATOR_MIN_DELAY_MS/,
    );
  });

  it('rejects non-http URLs', () => {
    expect(() => loadTesterConfig({ SENDER_TARGET_URL: 'ftp://127.0.0.1/callback' })).toThrow(
      /SENDER_TARGET_URL/,
    );
  });
});

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}
