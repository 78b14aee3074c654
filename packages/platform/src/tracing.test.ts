import { commonEnvShape, loadConfig } from './config.js';
import { Tracing, type TracingConfig } from './tracing.js';
import { z } from 'zod';

const Env = z.object(commonEnvShape);
const configOf = (env: Record<string, string>): TracingConfig => loadConfig(Env, env);

describe('Tracing.fromConfig', () => {
  it('is off unless an OTEL_* variable asks for an exporter', () => {
    expect(Tracing.fromConfig('test', configOf({})).enabled).toBe(false);
    expect(Tracing.fromConfig('test', configOf({ OTEL_TRACES_EXPORTER: 'none' })).enabled).toBe(false);
    expect(Tracing.fromConfig('test', configOf({ OTEL_SERVICE_NAME: 'x' })).enabled).toBe(false);
    expect(Tracing.fromConfig('test', configOf({ OTEL_TRACES_EXPORTER: 'console' })).enabled).toBe(true);
    expect(
      Tracing.fromConfig('test', configOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).enabled,
    ).toBe(true);
    expect(
      Tracing.fromConfig(
        'test',
        configOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
      ).enabled,
    ).toBe(false);
  });

  it('costs nothing when off: no span, no traceparent', () => {
    expect(Tracing.disabled().startSpan('x', { kind: 'internal' })).toBeUndefined();
  });

  it('refuses an exporter protocol it does not speak, naming the variable', () => {
    expect(() => configOf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});
