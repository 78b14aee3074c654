import { execFile } from 'node:child_process';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import { builtPackageUrl, fixturePath, fixturesDir, fixtureUrl } from '../test-fixtures/fixtures.js';
import { JobModuleError, jobKindsFromModule, loadJobModule, loadJobModules } from './job-module.js';

const run = () => null;
const input = { type: 'object' };
const load = (definition: unknown) =>
  jobKindsFromModule({ default: definition }, { name: './x.mjs', href: 'file:///x.mjs' });

describe('loadJobModule', () => {
  it('loads a TypeScript module written with defineJob and zod, by absolute path, relative path or file URL', async () => {
    const kind = await loadJobModule(fixturePath('zod-job.ts'));
    expect(kind).toMatchObject({
      kind: 'link-check',
      version: 1,
      concurrency: 2,
      timeoutMs: 1000,
      isolation: 'inline',
      retry: { maxAttempts: 4, backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 4000 } },
      specifier: fixtureUrl('zod-job.ts'),
    });
    expect(kind.inputJsonSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { urls: { type: 'array', minItems: 1 }, depth: { type: 'integer', default: 1 } },
      required: ['urls'],
    });
    expect(kind.resultJsonSchema).toMatchObject({ properties: { checked: { type: 'integer' } } });
    expect(kind.schemaHash).toMatch(/^[0-9a-f]{64}$/);
    expect(kind.validateInput({ urls: [{ url: 'https://example.com' }] })).toEqual({
      ok: true,
      value: { urls: [{ url: 'https://example.com' }], depth: 1 },
    });
    expect(
      kind.validateInput({ urls: [{ url: 'https://example.com' }, { url: 'not a url' }], depth: 9 }),
    ).toEqual({
      ok: false,
      issues: [
        { path: 'urls.1.url', message: expect.stringMatching(/url/i) as unknown },
        { path: 'depth', message: expect.stringMatching(/3/) as unknown },
      ],
    });

    const relativePath = relative(process.cwd(), fixturePath('zod-job.ts'));
    expect((await loadJobModule(relativePath)).schemaHash).toBe(kind.schemaHash);
    expect((await loadJobModule(fixtureUrl('zod-job.ts'))).schemaHash).toBe(kind.schemaHash);
    expect((await loadJobModules(fixturePath('zod-job.ts'))).map(({ kind }) => kind)).toEqual(['link-check']);
  });

  it('says which module is missing', async () => {
    await expect(loadJobModule('./no/such/job.mjs')).rejects.toThrow(
      /^module \.\/no\/such\/job\.mjs: file not found \(.*no\/such\/job\.mjs\)$/,
    );
    await expect(loadJobModule('https://example.com/job.mjs')).rejects.toThrow(
      'module https://example.com/job.mjs: give a file path or a file: URL',
    );
  });
});

describe('job definitions are checked field by field', () => {
  it('normalizes the defaults', () => {
    const [kind] = load({ kind: 'a', input, run });
    expect(kind).toMatchObject({
      kind: 'a',
      version: 1,
      concurrency: 1,
      timeoutMs: null,
      isolation: 'inline',
      resultJsonSchema: null,
      retry: { maxAttempts: 5, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 } },
    });
    expect(kind?.validateResult({ anything: true })).toEqual({ ok: true, value: { anything: true } });
  });

  it.each([
    [
      { kind: 'Bad_Kind', input, run },
      'module ./x.mjs: kind must match /^[a-z][a-z0-9-]{0,62}$/ (got "Bad_Kind")',
    ],
    [{ kind: `a${'b'.repeat(63)}`, input, run }, 'kind must match'],
    [{ input, run }, 'kind must match /^[a-z][a-z0-9-]{0,62}$/ (got undefined)'],
    [{ kind: 'a', input }, 'module ./x.mjs: run must be a function (got undefined)'],
    [{ kind: 'a', run }, 'module ./x.mjs: input is required: a zod schema or a JSON Schema object'],
    [
      { kind: 'a', input: 'string', run },
      'module ./x.mjs: input must be a zod schema or a JSON Schema object',
    ],
    [
      { kind: 'a', input: { type: 'string', minLenght: 3 }, run },
      'module ./x.mjs: input is not a valid JSON Schema: strict mode: unknown keyword: "minLenght"',
    ],
    [{ kind: 'a', input: { type: 'strin' }, run }, 'module ./x.mjs: input is not a valid JSON Schema'],
    [
      { kind: 'a', input: { $schema: 'http://json-schema.org/draft-04/schema#' }, run },
      'input has an unsupported $schema',
    ],
    [
      { kind: 'a', input, result: [], run },
      'module ./x.mjs: result must be a zod schema or a JSON Schema object',
    ],
    [
      { kind: 'a', input, run, version: 0 },
      'module ./x.mjs: version must be an integer from 1 to 2147483647 (got 0)',
    ],
    [{ kind: 'a', input, run, version: '2' }, 'version must be an integer from 1 to 2147483647 (got "2")'],
    [{ kind: 'a', input, run, concurrency: 1.5 }, 'concurrency must be an integer from 1 to 10000 (got 1.5)'],
    [{ kind: 'a', input, run, timeoutMs: 0 }, 'timeoutMs must be an integer from 1 to 2147483647 (got 0)'],
    [
      { kind: 'a', input, run, isolation: 'process' },
      "isolation must be 'inline' or 'thread' (got \"process\")",
    ],
    [
      { kind: 'a', input, run, timeout: 5000 },
      'module ./x.mjs: unknown field timeout (known: kind, version, input, result, run, concurrency, timeoutMs, retry, isolation)',
    ],
    [{ kind: 'a', input, run, retry: 3 }, 'retry must be an object { maxAttempts, backoff? } (got 3)'],
    [{ kind: 'a', input, run, retry: {} }, 'retry.maxAttempts is required'],
    [
      { kind: 'a', input, run, retry: { maxAttempts: 0 } },
      'retry.maxAttempts must be an integer from 1 to 1000 (got 0)',
    ],
    [{ kind: 'a', input, run, retry: { maxAttempts: 2, delay: 1 } }, 'unknown field retry.delay'],
    [
      { kind: 'a', input, run, retry: { maxAttempts: 2, backoff: { type: 'linear', delayMs: 1 } } },
      "retry.backoff.type must be 'fixed', 'exponential' or 'tiers' (got \"linear\")",
    ],
    [
      { kind: 'a', input, run, retry: { maxAttempts: 2, backoff: { type: 'tiers', delaysMs: [] } } },
      'retry.backoff.delaysMs must be 1 to 100 integers',
    ],
    [
      { kind: 'a', input, run, retry: { maxAttempts: 2, backoff: { type: 'fixed' } } },
      'retry.backoff.delayMs is required',
    ],
    [
      { kind: 'a', input, run, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: -1 } } },
      'retry.backoff.delayMs must be an integer from 0',
    ],
    [
      {
        kind: 'a',
        input,
        run,
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 1, maxDelayMs: 'x' } },
      },
      'retry.backoff.maxDelayMs must be an integer',
    ],
    [null, 'module ./x.mjs: the export is not a job definition (an object with kind, input and run)'],
  ])('refuses %j', (definition, message) => {
    expect(() => load(definition)).toThrow(JobModuleError);
    expect(() => load(definition)).toThrow(message);
  });

  it('names the definition in an array, and refuses a kind defined twice', () => {
    expect(() =>
      load([
        { kind: 'a', input, run },
        { kind: 'B', input, run },
      ]),
    ).toThrow('module ./x.mjs: [1].kind must match');
    expect(() =>
      load([
        { kind: 'a', input, run },
        { kind: 'a', input, run },
      ]),
    ).toThrow('module ./x.mjs: kind "a" is defined twice');
    expect(() => load([])).toThrow('module ./x.mjs: exports an empty array of job definitions');
  });

  it('finds the definition as the default export, as `job`, or inside a CommonJS default', () => {
    const href = 'file:///x.mjs';
    expect(
      jobKindsFromModule({ job: { kind: 'a', input, run } }, { name: 'x', href }).map((k) => k.kind),
    ).toEqual(['a']);
    expect(
      jobKindsFromModule(
        { default: { __esModule: true, default: { kind: 'b', input, run } } },
        { name: 'x', href },
      ).map((k) => k.kind),
    ).toEqual(['b']);
    expect(() => jobKindsFromModule({ helper: 1 }, { name: './x.mjs', href })).toThrow(
      'module ./x.mjs: no job definition: export one as default (or as `job`), or an array of them',
    );
  });

  it('refuses a zod schema that JSON cannot carry, saying why', async () => {
    const { z } = await import('zod');
    expect(() => load({ kind: 'a', input: z.object({ at: z.date() }), run })).toThrow(
      'module ./x.mjs: input cannot be expressed as JSON Schema (Date cannot be represented in JSON Schema)',
    );
    expect(() => load({ kind: 'a', input, result: z.string().transform((s) => s.length), run })).toThrow(
      'module ./x.mjs: result cannot be expressed as JSON Schema (Transforms cannot be represented in JSON Schema)',
    );
  });
});

/**
 * A plain JavaScript module is imported by Node itself, as a host does (jest cannot import ES
 * modules): the built package loads the fixtures in a child process, paths relative to its cwd.
 */
describe('plain JavaScript job modules, loaded by Node', () => {
  const script = `
    const { loadJobModule, loadJobModules, runJob } = await import(process.argv[1]);
    const ctx = { jobId: 'j', customId: null, attempt: 1, signal: new AbortController().signal, progress() {}, log: { debug() {}, info() {}, warn() {}, error() {} } };
    const summarize = async (kinds) => {
      const described = [];
      for (const { run, validateInput, validateResult, ...kind } of kinds) {
        const bad = validateInput({ text: '', times: 0, extra: 1 });
        const ran = kind.kind === 'plain-echo' ? await runJob({ run, validateInput, validateResult, ...kind }, { text: 'ab', times: 2 }, ctx) : null;
        described.push({ ...kind, bad, ran });
      }
      return described;
    };
    const outcome = {};
    for (const specifier of process.argv.slice(2)) {
      const all = specifier.startsWith('all:');
      const path = all ? specifier.slice(4) : specifier;
      try {
        outcome[specifier] = await summarize(all ? await loadJobModules(path) : [await loadJobModule(path)]);
      } catch (error) {
        outcome[specifier] = { name: error.name, message: error.message };
      }
    }
    console.log(JSON.stringify(outcome));
  `;
  let outcome: Record<string, unknown>;

  beforeAll(async () => {
    const specifiers = [
      './plain-job.mjs',
      './bad-kind.mjs',
      './misspelt-schema.mjs',
      './no-definition.mjs',
      './missing.mjs',
      './two-kinds.mjs',
      'all:./two-kinds.mjs',
      `all:${fixtureUrl('two-kinds.mjs')}`,
    ];
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, builtPackageUrl(), ...specifiers],
      { cwd: fixturesDir },
    );
    outcome = JSON.parse(stdout) as Record<string, unknown>;
  });

  it('loads a module whose default export is an object literal, importing nothing', () => {
    expect(outcome['./plain-job.mjs']).toEqual([
      {
        kind: 'plain-echo',
        version: 2,
        inputJsonSchema: expect.objectContaining({
          required: ['text'],
          additionalProperties: false,
        }) as unknown,
        resultJsonSchema: expect.objectContaining({ required: ['echoed'] }) as unknown,
        concurrency: 4,
        timeoutMs: 2000,
        retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 60_000 } },
        isolation: 'inline',
        specifier: fixtureUrl('plain-job.mjs'),
        schemaHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
        bad: {
          ok: false,
          issues: [
            { path: 'extra', message: 'must NOT have additional properties' },
            { path: 'text', message: 'must NOT have fewer than 1 characters' },
            { path: 'times', message: 'must be >= 1' },
          ],
        },
        ran: { echoed: 'abab' },
      },
    ]);
  });

  it('refuses bad modules, naming the module and the field', () => {
    expect(outcome['./bad-kind.mjs']).toEqual({
      name: 'JobModuleError',
      message: 'module ./bad-kind.mjs: kind must match /^[a-z][a-z0-9-]{0,62}$/ (got "Bad_Kind")',
    });
    expect(outcome['./misspelt-schema.mjs']).toEqual({
      name: 'JobModuleError',
      message:
        'module ./misspelt-schema.mjs: input is not a valid JSON Schema: strict mode: unknown keyword: "minLenght"',
    });
    expect(outcome['./no-definition.mjs']).toEqual({
      name: 'JobModuleError',
      message:
        'module ./no-definition.mjs: no job definition: export one as default (or as `job`), or an array of them',
    });
    expect(outcome['./missing.mjs']).toEqual({
      name: 'JobModuleError',
      message: `module ./missing.mjs: file not found (${fixturePath('missing.mjs')})`,
    });
  });

  it('loads every definition of an array with loadJobModules; loadJobModule wants exactly one', () => {
    expect(
      (outcome['all:./two-kinds.mjs'] as { kind: string; isolation: string }[]).map(({ kind, isolation }) => [
        kind,
        isolation,
      ]),
    ).toEqual([
      ['first', 'inline'],
      ['second', 'thread'],
    ]);
    expect((outcome[`all:${fixtureUrl('two-kinds.mjs')}`] as { specifier: string }[])[0]?.specifier).toBe(
      fixtureUrl('two-kinds.mjs'),
    );
    expect(outcome['./two-kinds.mjs']).toEqual({
      name: 'JobModuleError',
      message: 'module ./two-kinds.mjs: exports 2 job definitions; load it with loadJobModules',
    });
  });
});
