import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConveyorClient } from '@conveyor/client';
import { waitFor } from '@conveyor/testkit';
import { QUICK_SEMIPRIME, SLOW_SEMIPRIME, VERY_SLOW_SEMIPRIME } from '../harness.js';
import { startAuthStack, type AuthStack } from '../client/auth-stack.js';
import { conveyor, CONVEYOR_BIN } from './run-conveyor.js';

/** The built `conveyor` bin as a child process: every command with --json, and its exit codes. */
describe('conveyor CLI', () => {
  let stack: AuthStack;
  let asOperator: Record<string, string>;
  let asClient: Record<string, string>;
  let client: ConveyorClient;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-cli-'));

  beforeAll(async () => {
    if (!existsSync(CONVEYOR_BIN))
      throw new Error(`${CONVEYOR_BIN} is missing: run ./scripts/pnpm build first`);
    stack = await startAuthStack('cli', { cleanup: true });
    asOperator = { CONVEYOR_URL: stack.baseUrl, CONVEYOR_API_KEY: stack.operatorKey };
    const created = await conveyor(['clients', 'create', 'shop', '--json'], asOperator);
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ role: 'client', apiKey: expect.stringMatching(/^cvk_/) });
    asClient = { CONVEYOR_URL: stack.baseUrl, CONVEYOR_API_KEY: created.json().apiKey };
    client = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: created.json().apiKey });
  });

  afterAll(() => stack.stop());

  it('jobs submit --wait: the final job as JSON, exit 0', async () => {
    const run = await conveyor(
      [
        'jobs',
        'submit',
        'factorize',
        '--input',
        `{"number":"${QUICK_SEMIPRIME.n}"}`,
        '--custom-id',
        'cli-1',
        '--wait',
        '--json',
      ],
      asClient,
    );
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({
      status: 'succeeded',
      customId: 'cli-1',
      result: { factors: QUICK_SEMIPRIME.factors },
    });
  });

  it('jobs submit --delay-ms --timeout-ms --max-attempts --idempotency-key: scheduled, with its own policy, repeat-safe', async () => {
    const args = [
      'jobs',
      'submit',
      'factorize',
      '--input',
      '{"number":"77"}',
      '--delay-ms',
      '60000',
      '--timeout-ms',
      '5000',
      '--max-attempts',
      '2',
      '--idempotency-key',
      `cli-key-${Date.now()}`,
      '--json',
    ];
    const first = await conveyor(args, asClient);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ status: 'scheduled', timeoutMs: 5000, maxAttempts: 2 });
    const again = await conveyor(args, asClient);
    expect(again.json()).toMatchObject({ id: first.json().id });
  });

  it('jobs submit (input from a file), get, list, watch, events, result', async () => {
    writeFileSync(join(dir, 'input.json'), '{"number": 1234}');
    const submitted = await conveyor(
      ['jobs', 'submit', 'factorize', '--input', `@${join(dir, 'input.json')}`, '--json'],
      asClient,
    );
    expect(submitted.code).toBe(0);
    const { id } = submitted.json();
    expect(submitted.json()).toMatchObject({ status: 'queued', input: { number: '1234' } });

    const watched = await conveyor(['jobs', 'watch', id, '--json'], asClient);
    expect(watched).toMatchObject({ code: 0 });
    expect(watched.json()).toMatchObject({ id, status: 'succeeded' });

    expect((await conveyor(['jobs', 'get', id, '--json'], asClient)).json()).toMatchObject({
      id,
      status: 'succeeded',
    });
    const listed = await conveyor(
      ['jobs', 'list', '--kind', 'factorize', '--limit', '1', '--json'],
      asClient,
    );
    expect(listed.json()).toHaveLength(1);
    const events = (await conveyor(['jobs', 'events', id, '--json'], asClient)).json();
    expect(events).toMatchObject({
      jobId: id,
      entries: expect.arrayContaining([expect.objectContaining({ status: 'succeeded' })]),
    });
    expect((await conveyor(['jobs', 'result', id, '--json'], asClient)).json()).toEqual({
      factors: ['2', '617'],
      product: '1234',
      verified: true,
    });
    const out = join(dir, 'result.json');
    const written = await conveyor(['jobs', 'result', id, '-o', out, '--json'], asClient);
    expect(written.json()).toEqual({ file: out, contentType: 'application/json' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ factors: ['2', '617'] });
  });

  it("jobs result -o writes an image job's file", async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const job = await client.wait(await client.uploadImage(new Blob([png]), { width: 20, height: 15 }));
    const out = join(dir, 'small.png');
    const run = await conveyor(['jobs', 'result', job.id, '-o', out, '--json'], asClient);
    expect(run.json()).toMatchObject({ file: out, contentType: 'image/png' });
    expect(await sharp(readFileSync(out)).metadata()).toMatchObject({ format: 'png', width: 20, height: 15 });
    const refused = await conveyor(['jobs', 'result', job.id], asClient);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/-o <file>/);
  });

  it('jobs cancel and retry; a cancelled job exits 3', async () => {
    const { id } = await client.submit('factorize', { number: VERY_SLOW_SEMIPRIME.n });
    const running = new AbortController();
    await client
      .wait(id, {
        signal: running.signal,
        onProgress: (_p, job) => job.status === 'running' && running.abort(),
      })
      .catch(() => undefined);
    const cancelled = await conveyor(['jobs', 'cancel', id, '--json'], asClient);
    expect(cancelled.code).toBe(0);
    expect(['running', 'cancelled']).toContain(cancelled.json().status);
    const watched = await conveyor(['jobs', 'watch', id, '--json'], asClient);
    expect(watched.code).toBe(3);
    expect(watched.json()).toMatchObject({ status: 'cancelled' });
    const retried = await conveyor(['jobs', 'retry', id, '--json'], asClient);
    expect(retried.json()).toMatchObject({ id, status: 'queued' });
    await client.cancel(id);
  });

  it('a failed job exits 1; the dead letter is listed, read, redriven and purged', async () => {
    const failed = await conveyor(
      [
        'jobs',
        'submit',
        'csv-sum',
        '--input',
        '{"storage":"local","path":"missing.csv"}',
        '--wait',
        '--json',
      ],
      asClient,
    );
    expect(failed.code).toBe(1);
    const { id: jobId } = failed.json();
    expect(failed.json()).toMatchObject({ status: 'failed', error: { code: 'not_found' } });

    const letter = await waitFor('dead-lettered', async () => {
      const run = await conveyor(['dead-letters', 'list', '--kind', 'csv-sum', '--json'], asOperator);
      return run.json().deadLetters.find((l: { jobId: string }) => l.jobId === jobId);
    });
    expect((await conveyor(['dead-letters', 'get', letter.id, '--json'], asOperator)).json()).toMatchObject({
      id: letter.id,
      jobId,
    });
    expect((await conveyor(['dead-letters', 'redrive', letter.id, '--json'], asOperator)).json()).toEqual({
      redriven: 1,
    });
    const purged = await conveyor(['dead-letters', 'purge', '--all', '--json'], asOperator);
    expect(purged.json()).toMatchObject({ purged: expect.any(Number) });
    const ambiguous = await conveyor(['dead-letters', 'purge', '--json'], asOperator);
    expect(ambiguous.code).toBe(2);
    expect(JSON.parse(ambiguous.stderr)).toMatchObject({ error: { code: 'usage' } });
  });

  it('queues, pause, resume, workers, stats, overview, clients rotate-secret', async () => {
    const queues = await conveyor(['queues', '--json'], asOperator);
    expect(queues.json().queues.map((q: { kind: string }) => q.kind)).toEqual(
      expect.arrayContaining(['factorize']),
    );
    expect((await conveyor(['queues', 'pause', 'csv-sum', '--json'], asOperator)).json()).toEqual({
      kind: 'csv-sum',
      paused: true,
    });
    expect((await conveyor(['queues', 'resume', 'csv-sum', '--json'], asOperator)).json()).toEqual({
      kind: 'csv-sum',
      paused: false,
    });
    expect((await conveyor(['workers', '--json'], asOperator)).json()).toMatchObject({
      workers: expect.any(Array),
    });
    expect((await conveyor(['stats', '--json'], asClient)).json()).toMatchObject({
      byStatus: expect.any(Object),
    });
    expect((await conveyor(['overview', '--json'], asOperator)).json()).toMatchObject({
      jobs: expect.any(Object),
    });
    expect((await conveyor(['clients', 'rotate-secret', '--json'], asClient)).json()).toMatchObject({
      secret: expect.stringMatching(/^whsec_/),
    });
    const operator = await conveyor(
      ['clients', 'create', 'ops-2', '--role', 'operator', '--json'],
      asOperator,
    );
    expect(operator.json()).toMatchObject({ role: 'operator' });
  });

  describe('exit codes', () => {
    it.each([
      ['not found: 4', ['jobs', 'get', '00000000-0000-4000-8000-000000000000'], 4, 'not_found'],
      [
        'bad input from the API: 2',
        ['jobs', 'submit', 'factorize', '--input', '{"number":"12a"}'],
        2,
        'invalid_number',
      ],
      ['an unknown kind: 2', ['jobs', 'submit', 'nope', '--input', '{}'], 2, 'unknown_kind'],
      ['input that is not JSON: 2', ['jobs', 'submit', 'factorize', '--input', '{number'], 2, 'usage'],
      ['an unknown command: 2', ['jobz'], 2, 'usage'],
      ['a client key on an operator route: 5', ['queues'], 5, 'operator_only'],
    ])('%s', async (_what, args, code, errorCode) => {
      const run = await conveyor([...args, '--json'], asClient);
      expect(run.code).toBe(code);
      expect(run.stdout).toBe('');
      expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: errorCode } });
    });

    it('no key: 5, with a hint; a bad one: 5', async () => {
      const run = await conveyor(['stats'], { CONVEYOR_URL: stack.baseUrl });
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/unauthorized/);
      expect(run.stderr).toMatch(/CONVEYOR_API_KEY/);
      expect((await conveyor(['stats', '--api-key', 'cvk_nope'], { CONVEYOR_URL: stack.baseUrl })).code).toBe(
        5,
      );
    });

    it('an unreachable API: 7', async () => {
      const run = await conveyor(['stats', '--json'], { CONVEYOR_URL: 'http://127.0.0.1:1' });
      expect(run.code).toBe(7);
      expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'network_error' } });
    });

    it('--help lists the commands and the exit codes', async () => {
      const run = await conveyor(['--help'], {});
      expect(run.code).toBe(0);
      for (const word of [
        'jobs',
        'dead-letters',
        'queues',
        'workers',
        'stats',
        'clients',
        'completion',
        'Exit codes',
        '130',
      ])
        expect(run.stdout).toContain(word);
    });
  });

  it('prints a bash completion script, and a zsh one under zsh', async () => {
    const bash = await conveyor(['completion'], { SHELL: '/bin/bash' });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch(/complete -o bashdefault -o default -F _conveyor_yargs_completions conveyor/);
    const zsh = await conveyor(['completion'], { SHELL: '/bin/zsh' });
    expect(zsh.stdout).toMatch(/compdef _conveyor_yargs_completions conveyor/);
  });

  it('shows progress as plain lines when stdout is not a terminal', async () => {
    const run = await conveyor(
      ['jobs', 'submit', 'factorize', '--input', `{"number":"${SLOW_SEMIPRIME.n}"}`, '--wait'],
      asClient,
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.some((line) => / running \d+%/.test(line))).toBe(true);
    expect(run.stdout).toMatch(/status: {4}succeeded/);
    expect(run.stdout).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
  });

  it('Ctrl-C while watching stops the wait with exit 130; the job goes on', async () => {
    const { id } = await client.submit('factorize', { number: VERY_SLOW_SEMIPRIME.n });
    const child = spawn(process.execPath, [CONVEYOR_BIN, 'jobs', 'watch', id], {
      env: { PATH: process.env.PATH ?? '', ...asClient },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('the watch shows the job running', () => / running \d+%/.test(stdout));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect((await client.get(id)).status).toBe('running');
    await client.cancel(id);
  });
});
