import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { commonEnvShape, ConfigError, env, loadConfig, withDotenv } from './config.js';

const Schema = z.object({ ...commonEnvShape, PORT: env.int(9090), FLAG: env.bool(false) });

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig(Schema, {});
    expect(config.PORT).toBe(9090);
    expect(config.FLAG).toBe(false);
    expect(config.RETRY_DELAYS_MS).toEqual([1_000, 5_000, 30_000, 120_000, 600_000]);
    expect(config.AMQP_PREFIX).toBe('conveyor');
  });

  it('coerces explicit values', () => {
    const config = loadConfig(Schema, { PORT: '80', FLAG: 'true', RETRY_DELAYS_MS: '100,200' });
    expect(config).toMatchObject({ PORT: 80, FLAG: true, RETRY_DELAYS_MS: [100, 200] });
  });

  it('takes a cluster as a comma-separated AMQP_URL, trimmed, and names a bad node', () => {
    const config = loadConfig(Schema, { AMQP_URL: ' amqp://a:5672 , amqp://b:5672,' });
    expect(config.AMQP_URL).toBe('amqp://a:5672,amqp://b:5672');
    expect(() => loadConfig(Schema, { AMQP_URL: 'amqp://a:5672,b c' })).toThrow(/"b c" is not a URL/);
  });

  it('reports every bad variable at once, one line each, with the value seen', () => {
    let error: unknown;
    try {
      loadConfig(Schema, {
        PORT: 'eighty',
        AMQP_URL: 'not a url',
        RETRY_DELAYS_MS: '1,,2',
        DATABASE_SCHEMA: 'Bad-Name',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/got "eighty"/);
    expect(problems.find((p) => p.startsWith('AMQP_URL:'))).toMatch(/got "not a url"/);
    expect(problems.find((p) => p.startsWith('RETRY_DELAYS_MS:'))).toMatch(/comma-separated/);
    expect(problems.find((p) => p.startsWith('DATABASE_SCHEMA:'))).toMatch(/lowercase/);
  });
});

describe('withDotenv', () => {
  it('reads defaults from the file, and real variables win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'PORT=1234\nFLAG=true\n# comment\n');
    expect(withDotenv({ PORT: '99' }, path)).toMatchObject({ PORT: '99', FLAG: 'true' });
  });

  it('is fine without a file', () => {
    expect(withDotenv({ A: '1' }, '/nonexistent/.env')).toEqual({ A: '1' });
  });
});
