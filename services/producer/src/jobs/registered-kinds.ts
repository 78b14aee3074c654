import { BuiltInJobKind } from '@conveyor/contracts';
import {
  jsonSchemaValidator,
  type JobKindRegistry,
  type RegisteredJobKind,
  type SchemaCheck,
} from '@conveyor/jobs';
import type { KindPolicyLimits } from './job-policy.js';

/** A registered kind as the producer uses it: what it is, and its input check compiled once. */
export interface RegisteredKindInput {
  kind: RegisteredJobKind;
  checkInput: (value: unknown) => SchemaCheck;
}

/** How long a registered kind's row is trusted before it is read again (a new version's schema). */
const FRESH_MS = 5_000;
/** How long "no such kind" is trusted: short, so a kind registered a moment ago is accepted at once after it. */
const ABSENT_MS = 500;

/**
 * The producer's view of the job kinds worker hosts registered, read from PostgreSQL on demand:
 * a kind registered after the producer started is accepted without a restart, and a schema is
 * compiled once per registered version, not per request.
 */
export class RegisteredKinds {
  private readonly entries = new Map<string, { value: RegisteredKindInput | undefined; until: number }>();

  constructor(
    private readonly registry: JobKindRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  async find(kind: string): Promise<RegisteredKindInput | undefined> {
    const cached = this.entries.get(kind);
    if (cached && cached.until > this.now()) return cached.value;
    const row = await this.registry.find(kind);
    const value =
      row === undefined
        ? undefined
        : cached?.value?.kind.schemaHash === row.schemaHash
          ? { ...cached.value, kind: row }
          : { kind: row, checkInput: jsonSchemaValidator(row.inputSchema) };
    this.entries.set(kind, { value, until: this.now() + (value ? FRESH_MS : ABSENT_MS) });
    return value;
  }

  /** The kind's timeout and most attempts, as its hosts registered them (built-in kinds are registered too). */
  async limits(kind: string): Promise<KindPolicyLimits | undefined> {
    const found = await this.find(kind);
    return found && { timeoutMs: found.kind.timeoutMs, maxAttempts: found.kind.retry.maxAttempts };
  }

  /** Every kind a client may submit: the built-in ones and the registered ones. */
  async names(): Promise<string[]> {
    const registered = (await this.registry.list()).map((row) => row.kind);
    return [...new Set([...BuiltInJobKind.options, ...registered])].sort();
  }
}
