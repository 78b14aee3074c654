import { z } from 'zod';
import linkCheck, { type LinkCheckInput } from '../test-fixtures/zod-job.js';
import { defineJob, type JobContext, type JobDefinition } from './index.js';

/** Compiles only when A and B are the same type (checked by `pnpm lint`'s tsc; jest does not type-check). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(value: T): T => value;

describe('defineJob', () => {
  it('returns its argument unchanged', () => {
    const definition = { kind: 'echo', input: { type: 'object' }, run: (input: unknown) => input };
    expect(defineJob(definition)).toBe(definition);
  });

  it('types run from the zod schemas: the input is the schema output, the result is checked', () => {
    const job = defineJob({
      kind: 'sum',
      input: z.object({ numbers: z.array(z.number()), label: z.string().default('sum') }),
      result: z.object({ total: z.number() }),
      run(input, ctx: JobContext) {
        assertType<Equal<typeof input, { numbers: number[]; label: string }>>(true);
        ctx.progress(1);
        return { total: input.numbers.reduce((a, b) => a + b, 0) };
      },
    });
    assertType<Equal<typeof job, JobDefinition<{ numbers: number[]; label: string }, { total: number }>>>(
      true,
    );

    defineJob({
      kind: 'sum',
      input: z.object({ n: z.number() }),
      result: z.object({ total: z.number() }),
      // @ts-expect-error the result schema wants { total: number }
      run: (input) => ({ total: String(input.n) }),
    });
    defineJob({
      kind: 'sum',
      input: z.object({ n: z.number() }),
      // @ts-expect-error input.n is a number
      run: (input) => input.n.toUpperCase(),
    });
    expect(job.kind).toBe('sum');
  });

  it('leaves a plain JSON Schema input unknown, to be narrowed by the run', () => {
    const job = defineJob({
      kind: 'plain',
      input: { type: 'object' },
      run: (input) => JSON.stringify(input),
    });
    assertType<Equal<typeof job, JobDefinition<unknown, string>>>(true);
    expect(job.run({}, {} as JobContext)).toBe('{}');
  });

  it('types a TypeScript job module from its schemas', () => {
    assertType<Equal<Parameters<typeof linkCheck.run>[0], z.output<typeof LinkCheckInput>>>(true);
    expect(linkCheck.kind).toBe('link-check');
  });
});
