import { HttpStub, ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { createIsolatedEnv, postCallback, request, type IsolatedEnv } from '../harness.js';
import { HaproxyBalancer } from './haproxy.js';

/** Ids in one `POST /callback`, as the upstream sends them. */
const IDS_PER_CALLBACK = 200;
/** Clients submitting jobs at once, each one request after the other. */
const JOB_CLIENTS = 3;

/**
 * Two producers behind HAProxy and two worker hosts under a steady load of jobs and callbacks;
 * one producer and one worker host are killed -9 mid-run. Whatever got a 2xx is done in the end.
 */
describe('producers and worker hosts in pairs', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let upstream: HttpStub;
  let balancer: HaproxyBalancer | undefined;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('replicapc');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    // Every object online, answered after 20–300 ms: checks are in flight when a consumer dies.
    upstream = await HttpStub.start(async (req, res) => {
      const id = Number(/^\/objects\/(\d+)$/.exec(req.url ?? '')?.[1]);
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 280));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, online: true }));
    });
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    await balancer?.stop();
    await upstream.stop();
    await db.end();
    await isolated.dispose();
  });

  const spawn = (service: string, env: Record<string, string>) => {
    const p = ServiceProcess.start(service, {
      ...isolated.env,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      // A dead producer's unconfirmed jobs are re-sent by the other one a second later.
      DISPATCH_LEASE_MS: '1000',
      DISPATCH_RENEW_MS: '200',
      OUTBOX_POLL_MS: '100',
      OBJECTS_API_URL: upstream.url,
      // Two cores: one thread per pool is plenty for small numbers.
      FACTORIZE_WORKERS: '1',
      CSV_SUM_WORKERS: '1',
      JOB_THREADS: '1',
      ...env,
    });
    processes.push(p);
    return p;
  };
  const startProducer = async () => {
    // Longer than HAProxy keeps an idle connection to a server, as behind any load balancer: a
    // producer closing one just as HAProxy reuses it would fail a request with no producer dead.
    const p = spawn('producer', { PORT: '0', HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000' });
    return { process: p, port: JSON.parse(await p.waitForLog(/producer listening/)).port as number };
  };
  const startConsumer = async () => {
    const p = spawn('consumer', {});
    await p.waitForLog(/consumer started/);
    return p;
  };

  it('loses no accepted job or callback id when a producer and a worker host are killed -9 under load', async () => {
    const producers = await Promise.all([startProducer(), startProducer()]);
    const consumers = await Promise.all([startConsumer(), startConsumer()]);
    const lb = await HaproxyBalancer.start(producers.map((p) => p.port));
    balancer = lb;
    await waitFor('both producers up in haproxy', async () =>
      (await lb.servers()).every((s) => s.status === 'UP'),
    );

    const acceptedJobs: string[] = [];
    const acceptedIds: number[] = [];
    /** Requests that got no 2xx: a status, or the error of a request cut short. */
    const failures: string[] = [];
    let loading = true;
    let nextNumber = 1_000;
    let nextCallback = 0;
    const jobClient = async () => {
      while (loading) {
        try {
          const { status, body } = await request(lb.port, 'POST', '/v1/jobs', {
            kind: 'factorize',
            input: { number: String(nextNumber++) },
          });
          if (status === 200 || status === 202) acceptedJobs.push(body.id);
          else failures.push(`job ${status}`);
        } catch (error) {
          failures.push(`job ${failureOf(error)}`);
        }
      }
    };
    const callbackClient = async () => {
      while (loading) {
        const first = nextCallback++ * IDS_PER_CALLBACK;
        const ids = Array.from({ length: IDS_PER_CALLBACK }, (_, i) => first + i);
        try {
          const { status } = await postCallback(lb.port, { object_ids: ids });
          if (status === 200) acceptedIds.push(...ids);
          else failures.push(`callback ${status}`);
        } catch (error) {
          failures.push(`callback ${failureOf(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const load = Promise.all([...Array.from({ length: JOB_CLIENTS }, jobClient), callbackClient()]);

    try {
      await waitFor('load under way', () => acceptedJobs.length >= 40 && acceptedIds.length >= 600, {
        timeoutMs: 30_000,
      });
      const [doomedProducer, survivor] = producers as [(typeof producers)[0], (typeof producers)[0]];
      await Promise.all([doomedProducer.process.kill9(), consumers[0]!.kill9()]);
      const atKill = { jobs: acceptedJobs.length, ids: acceptedIds.length };

      // HAProxy takes the dead producer out by its health checks; meanwhile a request that cannot
      // connect is tried again on the survivor.
      await waitFor('the killed producer marked DOWN', async () => {
        const [dead, alive] = await lb.servers();
        return dead?.status === 'DOWN' && alive?.status === 'UP';
      });
      const atDown = { jobs: acceptedJobs.length, ids: acceptedIds.length, failures: failures.length };
      const survivorBefore = (await lb.servers())[1]!.sessions;
      await waitFor(
        'the load carried on by the survivor',
        () => acceptedJobs.length >= atDown.jobs + 40 && acceptedIds.length >= atDown.ids + 600,
        { timeoutMs: 30_000 },
      );
      loading = false;
      await load;

      // After HAProxy noticed, every request went to the survivor, and none failed.
      const [dead, alive] = await lb.servers();
      expect(alive!.sessions).toBeGreaterThan(survivorBefore);
      expect(failures.length).toBe(atDown.failures);
      expect(dead!.status).toBe('DOWN');
      // Only the requests the dead producer was answering can fail: one per client at most.
      expect(failures.length).toBeLessThanOrEqual(JOB_CLIENTS + 1);
      // Cut short or answered by HAProxy for want of the server, never refused by the producer.
      for (const failure of failures) expect(failure).toMatch(/^(job|callback) (502|503|504|.*fetch failed)/);
      expect(atKill.jobs).toBeLessThan(acceptedJobs.length);
      expect(survivor.process.exited).toBe(false);
    } finally {
      loading = false;
      await load;
    }

    const unfinished = async () => {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from "${isolated.schema}".jobs where id = any($1::uuid[]) and status = 'succeeded'`,
        [acceptedJobs],
      );
      return acceptedJobs.length - rows[0]!.n;
    };
    await waitFor('every accepted job succeeded', async () => (await unfinished()) === 0, {
      timeoutMs: 45_000,
    });
    const { rows: twice } = await db.query(
      `select job_id from "${isolated.schema}".job_events where job_id = any($1::uuid[]) and status = 'succeeded'
       group by job_id having count(*) > 1`,
      [acceptedJobs],
    );
    expect(twice).toEqual([]);

    const missingIds = async () => {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from "${isolated.schema}".objects where id = any($1::bigint[])`,
        [acceptedIds],
      );
      return acceptedIds.length - rows[0]!.n;
    };
    await waitFor('every accepted callback id stored', async () => (await missingIds()) === 0, {
      timeoutMs: 45_000,
    });
  });
});

/** A fetch error with what caused it (`other side closed`, say). */
function failureOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${String(error)}${cause}`;
}
