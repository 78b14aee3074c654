import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceProcess, waitFor } from '@conveyor/testkit';
import { createIsolatedEnv, QUICK_SEMIPRIME, request, type IsolatedEnv } from '../harness.js';

interface Export {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/**
 * The standard variables switch tracing on in a real service process: a producer started with
 * OTEL_EXPORTER_OTLP_ENDPOINT sends its spans, as OTLP/HTTP protobuf, to a collector there (here a
 * bare HTTP server standing in for one); without it, the same requests send nothing.
 */
describe('OTLP export from a service process', () => {
  let isolated: IsolatedEnv;
  let collector: http.Server;
  let endpoint: string;
  const exports: Export[] = [];
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('otlp');
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exports.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    collector.close();
    await isolated.dispose();
  });

  const startProducer = async (env: Record<string, string>) => {
    const producer = ServiceProcess.start('producer', {
      ...isolated.env,
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    });
    processes.push(producer);
    return {
      producer,
      port: JSON.parse(await producer.waitForLog(/producer listening/)).port as number,
    };
  };
  const submit = (port: number) =>
    request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: QUICK_SEMIPRIME.n } });

  it('sends nothing with no OTEL_* variable set', async () => {
    const { producer, port } = await startProducer({});
    expect((await submit(port)).status).toBe(202);
    await producer.stop();
    expect(exports).toEqual([]);
  });

  it('exports the request spans to OTEL_EXPORTER_OTLP_ENDPOINT, named by OTEL_SERVICE_NAME', async () => {
    const { producer, port } = await startProducer({
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'conveyor-producer-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    expect((await submit(port)).status).toBe(202);
    await waitFor('a span export', () => exports.length > 0, { timeoutMs: 15_000 });
    await producer.stop();
    const [first] = exports;
    expect(first!.path).toBe('/v1/traces');
    expect(first!.contentType).toBe('application/x-protobuf');
    // Protobuf keeps strings as they are: the service name and the span's route name are in it.
    const text = Buffer.concat(exports.map((e) => e.body)).toString('latin1');
    expect(text).toContain('conveyor-producer-under-test');
    expect(text).toContain('POST /v1/jobs');
  });
});
