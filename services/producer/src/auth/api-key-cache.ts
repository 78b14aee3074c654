import type { ApiPrincipal } from './api-client.repository.js';

/** Resolves an API key to its client and role; undefined for an unknown (or revoked) key. */
export type FindClient = (apiKey: string) => Promise<ApiPrincipal | undefined>;

/** How long a key found valid is believed without asking the database again. */
export const API_KEY_CACHE_TTL_MS = 30_000;

/**
 * API keys to clients (id and role), remembered for a while (a key is otherwise hashed and looked up on every
 * request). Remembering is only safe while revocations reach this process: the cache is trusted
 * only while `revocationsHeard(true)` holds (the revocation listener is connected); otherwise
 * every request asks the database, so a missed notification cannot keep a revoked key alive.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { principal: ApiPrincipal; until: number }>();
  private trusted = false;
  /**
   * Bumped by every revocation and every change of trust. A lookup that started before one may
   * have read the key before it was revoked, so its answer is used but not remembered.
   */
  private generation = 0;

  constructor(
    private readonly findClient: FindClient,
    private readonly ttlMs = API_KEY_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async clientOf(apiKey: string): Promise<ApiPrincipal | undefined> {
    if (this.trusted) {
      const cached = this.entries.get(apiKey);
      if (cached && cached.until > this.now()) return cached.principal;
    }
    const generation = this.generation;
    const principal = await this.findClient(apiKey);
    if (principal === undefined) this.entries.delete(apiKey);
    else if (this.trusted && generation === this.generation)
      this.entries.set(apiKey, { principal, until: this.now() + this.ttlMs });
    return principal;
  }

  async clientIdOf(apiKey: string): Promise<string | undefined> {
    return (await this.clientOf(apiKey))?.clientId;
  }

  /** A client's key was revoked: forget every key of it at once. */
  revoked(clientId: string): void {
    this.generation += 1;
    for (const [apiKey, entry] of this.entries)
      if (entry.principal.clientId === clientId) this.entries.delete(apiKey);
  }

  /**
   * Whether revocations reach this process now. Either way the cache starts over: while they did
   * not, a key may have been revoked unheard.
   */
  revocationsHeard(heard: boolean): void {
    this.generation += 1;
    this.entries.clear();
    this.trusted = heard;
  }
}
