import { DirectorySyncs } from './directory-syncs.js';

/** A fake fsync per directory that the test finishes by hand, recording when each one started. */
function manualSyncs() {
  const started: { directory: string; finish: () => void; fail: (error: Error) => void }[] = [];
  const syncs = new DirectorySyncs(
    (directory) =>
      new Promise<void>((resolve, reject) => {
        started.push({ directory, finish: resolve, fail: reject });
      }),
  );
  return { syncs, started };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('DirectorySyncs', () => {
  it('syncs at once when the directory is idle', async () => {
    const { syncs, started } = manualSyncs();
    const done = syncs.sync('/a');
    expect(started.map((s) => s.directory)).toEqual(['/a']);
    started[0]!.finish();
    await expect(done).resolves.toBeUndefined();
  });

  it('makes requests during a running sync share one next sync, started after it ends', async () => {
    const { syncs, started } = manualSyncs();
    const first = syncs.sync('/a');
    const second = syncs.sync('/a');
    const third = syncs.sync('/a');
    expect(started).toHaveLength(1); // the running sync may predate their renames: they wait
    let secondDone = false;
    void second.then(() => (secondDone = true));

    started[0]!.finish();
    await first;
    await flush();
    expect(started).toHaveLength(2);
    expect(secondDone).toBe(false);

    started[1]!.finish();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
    await flush();
    expect(started).toHaveLength(2);
  });

  it('keeps directories apart', () => {
    const { syncs, started } = manualSyncs();
    void syncs.sync('/a');
    void syncs.sync('/b');
    expect(started.map((s) => s.directory)).toEqual(['/a', '/b']);
  });

  it('reports a failed sync to its waiters only; the next request syncs afresh', async () => {
    const { syncs, started } = manualSyncs();
    const failing = syncs.sync('/a');
    const queued = syncs.sync('/a');
    started[0]!.fail(new Error('EIO'));
    await expect(failing).rejects.toThrow('EIO');
    await flush();
    started[1]!.finish();
    await expect(queued).resolves.toBeUndefined();
    await flush();

    const later = syncs.sync('/a');
    expect(started).toHaveLength(3);
    started[2]!.finish();
    await expect(later).resolves.toBeUndefined();
  });
});
