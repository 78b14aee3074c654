import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitFor } from '@conveyor/testkit';
import {
  consumerApp,
  createIsolatedEnv,
  notifierApp,
  producerApp,
  QUICK_SEMIPRIME,
  request,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { Receiver } from '../webhooks/receiver.js';

/** A caller's own trace: its traceparent goes on the POST, so every span must join this trace. */
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const CALLER_TRACEPARENT = `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`;

/**
 * OpenTelemetry across the services, each with its own in-memory exporter: one trace from the
 * POST (continuing the caller's traceparent), through the AMQP message's `traceparent` header
 * to the worker's run, to every webhook attempt the notifier makes (which carries the header on).
 */
describe('tracing', () => {
  let isolated: IsolatedEnv;
  const spans = {
    producer: new InMemorySpanExporter(),
    consumer: new InMemorySpanExporter(),
    notifier: new InMemorySpanExporter(),
  };
  const stops: (() => Promise<void>)[] = [];
  let port: number;
  let receiver: Receiver;
  const traceparents: (string | undefined)[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('tracing');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_RETRY_SCHEDULE_MS: '100,200',
      DISPATCH_POLL_MS: '50',
    };
    receiver = await new Receiver().start();
    // The first attempt of each push fails, so each job event is attempted twice.
    const seen = new Set<string>();
    receiver.reply = (req, res, webhook) => {
      traceparents.push(typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined);
      if (seen.has(webhook.id)) return void res.writeHead(200).end('ok');
      seen.add(webhook.id);
      res.writeHead(503).end('not yet');
    };
    const producer = producerApp(env, { spanExporter: spans.producer });
    await producer.start();
    stops.unshift(() => producer.stop());
    port = producer.port;
    const consumer = consumerApp({ ...env, BUILT_IN_KINDS: 'factorize' }, { spanExporter: spans.consumer });
    await consumer.start();
    stops.unshift(() => consumer.stop());
    const notifier = notifierApp(env, { spanExporter: spans.notifier });
    await notifier.start();
    stops.unshift(() => notifier.stop());
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await receiver.stop();
    await isolated.dispose();
  });

  const finished = (exporter: InMemorySpanExporter, name: string, jobId: string): ReadableSpan[] =>
    exporter
      .getFinishedSpans()
      .filter((span) => span.name === name && span.attributes['conveyor.job.id'] === jobId);

  it('joins the POST, the worker run and every webhook attempt in the caller’s trace', async () => {
    const submitted = await request<{ id: string }>(
      port,
      'POST',
      '/v1/jobs',
      { kind: 'factorize', input: { number: QUICK_SEMIPRIME.n }, callbackUrl: receiver.url },
      { traceparent: CALLER_TRACEPARENT },
    );
    expect(submitted.status).toBe(202);
    const jobId = submitted.body.id;
    await waitFor(
      'the succeeded push delivered on its second attempt',
      () =>
        finished(spans.notifier, 'POST webhook', jobId).some(
          (s) =>
            s.attributes['http.response.status_code'] === 200 &&
            receiver.forJob(jobId).some((w) => w.payload.status === 'succeeded'),
        ),
      { timeoutMs: 30_000 },
    );

    const [post, ...otherPosts] = spans.producer
      .getFinishedSpans()
      .filter((span) => span.name === 'POST /v1/jobs');
    expect(otherPosts).toEqual([]);
    expect(post!.kind).toBe(SpanKind.SERVER);
    expect(post!.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(post!.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(post!.attributes['http.response.status_code']).toBe(202);
    expect(post!.resource.attributes['service.name']).toBe('conveyor-producer');
    const postSpanId = post!.spanContext().spanId;

    // The worker's run: a child of the POST through the message's traceparent header.
    const [run] = finished(spans.consumer, 'process factorize', jobId);
    expect(run!.kind).toBe(SpanKind.CONSUMER);
    expect(run!.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(run!.parentSpanContext?.spanId).toBe(postSpanId);
    expect(run!.resource.attributes['service.name']).toBe('conveyor-consumer');

    // Every webhook attempt, failed and delivered: children of the POST, sent with their own traceparent.
    const attempts = finished(spans.notifier, 'POST webhook', jobId);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((a) => a.attributes['http.response.status_code'])).toEqual(
      expect.arrayContaining([503, 200]),
    );
    for (const attempt of attempts) {
      expect(attempt.kind).toBe(SpanKind.CLIENT);
      expect(attempt.spanContext().traceId).toBe(CALLER_TRACE_ID);
      expect(attempt.parentSpanContext?.spanId).toBe(postSpanId);
      expect(traceparents).toContain(`00-${CALLER_TRACE_ID}-${attempt.spanContext().spanId}-01`);
    }
    expect(attempts.find((a) => a.attributes['http.response.status_code'] === 503)!.status.code).toBe(2);
  });

  it('starts a trace of its own for a request that brings none', async () => {
    const submitted = await request<{ id: string }>(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: QUICK_SEMIPRIME.n },
    });
    await waitFor(
      'run traced',
      () => finished(spans.consumer, 'process factorize', submitted.body.id).length > 0,
      {
        timeoutMs: 30_000,
      },
    );
    const [run] = finished(spans.consumer, 'process factorize', submitted.body.id);
    const post = spans.producer
      .getFinishedSpans()
      .find((span) => span.spanContext().spanId === run!.parentSpanContext?.spanId);
    expect(post?.name).toBe('POST /v1/jobs');
    expect(post!.parentSpanContext).toBeUndefined();
    expect(run!.spanContext().traceId).not.toBe(CALLER_TRACE_ID);
  });
});
