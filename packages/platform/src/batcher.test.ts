import { Batcher } from './batcher.js';

/** A write that records its batches and settles when the test says so. */
function controlledWrite<T>() {
  const batches: { items: T[]; resolve: (results: string[]) => void; reject: (error: Error) => void }[] = [];
  const write = (items: T[]) =>
    new Promise<string[]>((resolve, reject) => batches.push({ items, resolve, reject }));
  return { batches, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('writes items added together as one batch, and each caller gets its own result', async () => {
    const { batches, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxItems: 10, maxWaitMs: 5 });
    const results = [1, 2, 3].map((n) => batcher.add(n));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    batches[0]!.resolve(['one', 'two', 'three']);
    expect(await Promise.all(results)).toEqual(['one', 'two', 'three']);
  });

  it('settles no caller before its batch write has returned', async () => {
    const { batches, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxItems: 2, maxWaitMs: 1_000 });
    let settled = false;
    const result = batcher.add(1).then((r) => ((settled = true), r));
    void batcher.add(2);
    await tick();
    expect(batches).toHaveLength(1); // full: written without waiting for maxWaitMs
    await tick();
    expect(settled).toBe(false);
    batches[0]!.resolve(['a', 'b']);
    expect(await result).toBe('a');
  });

  it('collects what arrives while every slot is busy into the next batch (group commit)', async () => {
    const { batches, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxItems: 100, maxWaitMs: 0, maxInFlight: 1 });
    const first = batcher.add(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toHaveLength(1);
    const rest = [2, 3, 4].map((n) => batcher.add(n));
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toHaveLength(1); // waiting for the slot
    batches[0]!.resolve(['1']);
    await first;
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.resolve(['2', '3', '4']);
    expect(await Promise.all(rest)).toEqual(['2', '3', '4']);
  });

  it('retries the items of a failed batch one by one, so only the bad item fails', async () => {
    const written: number[][] = [];
    const batcher = new Batcher(
      (items: number[]) => {
        written.push(items);
        if (items.includes(13)) return Promise.reject(new Error('13 is refused'));
        return Promise.resolve(items.map((n) => n * 2));
      },
      { maxItems: 10, maxWaitMs: 1 },
    );
    const results = await Promise.allSettled([1, 13, 3].map((n) => batcher.add(n)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('13 is refused') },
      { status: 'fulfilled', value: 6 },
    ]);
    expect(written).toEqual([[1, 13, 3], [1], [13], [3]]);
  });

  it('fails a batch whose write returns the wrong number of results', async () => {
    const batcher = new Batcher((items: number[]) => Promise.resolve(items.length > 1 ? [] : ['alone']), {
      maxItems: 10,
      maxWaitMs: 1,
    });
    expect(await Promise.all([batcher.add(1), batcher.add(2)])).toEqual(['alone', 'alone']);
  });

  it('splits more than maxItems into several batches', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher(
      (items: number[]) => {
        sizes.push(items.length);
        return Promise.resolve(items);
      },
      { maxItems: 3, maxWaitMs: 1, maxInFlight: 4 },
    );
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => batcher.add(n)))).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('does not wait maxWaitMs when nothing is being written, but still batches what one turn adds', async () => {
    const { batches, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxItems: 10, maxWaitMs: 60_000 });
    const first = [1, 2].map((n) => batcher.add(n));
    await new Promise((r) => setImmediate(r));
    expect(batches.map((b) => b.items)).toEqual([[1, 2]]);
    const later = batcher.add(3); // one write in flight: this one waits (for maxWaitMs or the slot)
    await new Promise((r) => setTimeout(r, 10));
    expect(batches).toHaveLength(1);
    batches[0]!.resolve(['a', 'b']);
    expect(await Promise.all(first)).toEqual(['a', 'b']);
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1, 2], [3]]);
    batches[1]!.resolve(['c']);
    expect(await later).toBe('c');
  });
});
