import { ApiKeyCache } from './api-key-cache.js';

/** A lookup that counts its calls and answers from a table a test can change (a revocation). */
function keyTable(initial: Record<string, string>) {
  const keys = new Map(Object.entries(initial));
  const lookup = {
    calls: 0,
    keys,
    find: async (apiKey: string) => {
      lookup.calls++;
      const clientId = keys.get(apiKey);
      return clientId === undefined ? undefined : { clientId, role: 'client' as const };
    },
  };
  return lookup;
}

describe('ApiKeyCache', () => {
  it('asks the database once per key while revocations are heard', async () => {
    const table = keyTable({ k1: 'cl_a' });
    const cache = new ApiKeyCache(table.find);
    cache.revocationsHeard(true);
    expect(await cache.clientIdOf('k1')).toBe('cl_a');
    expect(await cache.clientIdOf('k1')).toBe('cl_a');
    expect(table.calls).toBe(1);
  });

  it('asks again once the TTL is over', async () => {
    const table = keyTable({ k1: 'cl_a' });
    let now = 1_000;
    const cache = new ApiKeyCache(table.find, 30_000, () => now);
    cache.revocationsHeard(true);
    await cache.clientIdOf('k1');
    now += 30_001;
    await cache.clientIdOf('k1');
    expect(table.calls).toBe(2);
  });

  it('asks the database on every request while revocations are not heard (listener down)', async () => {
    const table = keyTable({ k1: 'cl_a' });
    const cache = new ApiKeyCache(table.find);
    await cache.clientIdOf('k1');
    await cache.clientIdOf('k1');
    expect(table.calls).toBe(2);
    // A key revoked while nobody listens is refused on the very next request.
    table.keys.delete('k1');
    expect(await cache.clientIdOf('k1')).toBeUndefined();
  });

  it('forgets a revoked client at once, and only that client', async () => {
    const table = keyTable({ k1: 'cl_a', k2: 'cl_a', k3: 'cl_b' });
    const cache = new ApiKeyCache(table.find);
    cache.revocationsHeard(true);
    for (const key of ['k1', 'k2', 'k3']) await cache.clientIdOf(key);
    table.keys.delete('k1');
    table.keys.delete('k2');
    cache.revoked('cl_a');
    expect(await cache.clientIdOf('k1')).toBeUndefined();
    expect(await cache.clientIdOf('k2')).toBeUndefined();
    const calls = table.calls;
    expect(await cache.clientIdOf('k3')).toBe('cl_b');
    expect(table.calls).toBe(calls);
  });

  it('starts over when the listener reconnects: a revocation missed meanwhile cannot survive', async () => {
    const table = keyTable({ k1: 'cl_a' });
    const cache = new ApiKeyCache(table.find);
    cache.revocationsHeard(true);
    await cache.clientIdOf('k1');
    cache.revocationsHeard(false);
    table.keys.delete('k1'); // revoked while the listener was down: no notification reaches us
    cache.revocationsHeard(true);
    expect(await cache.clientIdOf('k1')).toBeUndefined();
  });

  it('does not remember a lookup that a revocation overtook', async () => {
    const table = keyTable({ k1: 'cl_a' });
    let release: () => void = () => undefined;
    const slowFind = async (apiKey: string) => {
      const answer = await table.find(apiKey); // read before the revocation commits...
      await new Promise<void>((resolve) => (release = resolve));
      return answer; // ...answered after its notification
    };
    const cache = new ApiKeyCache(slowFind);
    cache.revocationsHeard(true);
    const pending = cache.clientIdOf('k1');
    await new Promise((resolve) => setImmediate(resolve));
    table.keys.delete('k1');
    cache.revoked('cl_a');
    release();
    expect(await pending).toBe('cl_a'); // that request began before the revocation
    const next = cache.clientIdOf('k1');
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await next).toBeUndefined();
  });
});
