/**
 * One circuit breaker per origin. After N consecutive endpoint failures (timeouts, connection
 * errors, 5xx) the circuit opens: deliveries to that origin wait out a cool-down instead of each
 * burning a worker for the full timeout. Then one probe is let through (half-open); its success
 * closes the circuit, its failure opens it again. Deliveries held back are postponed, not failed:
 * the breaker never costs an attempt of the retry schedule.
 */
import { AppError } from '@conveyor/platform';

export interface CircuitBreakerConfig {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses before letting a probe through. */
  coolDownMs: number;
  now: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export type Admission = { allowed: true } | { allowed: false; retryInMs: number };

type Circuit =
  | { state: 'closed'; consecutiveFailures: number }
  | { state: 'open'; until: number }
  /** A probe that never reports back (crashed worker) must not wedge the circuit: its lease ends. */
  | { state: 'half_open'; probeLeaseUntil: number };

export class CircuitBreakers {
  readonly #config: CircuitBreakerConfig;
  /** Healthy origins (closed, no failures) are not stored, so the map only holds troubled ones. */
  readonly #circuits = new Map<string, Circuit>();

  constructor(config: CircuitBreakerConfig) {
    if (
      !Number.isSafeInteger(config.failureThreshold) ||
      config.failureThreshold < 1 ||
      !(config.coolDownMs > 0)
    ) {
      throw new AppError(
        'invalid_circuit_breaker_config',
        `failureThreshold must be a whole number ≥ 1 and coolDownMs > 0, got ${config.failureThreshold} and ${config.coolDownMs}.`,
      );
    }
    this.#config = config;
  }

  /** Whether a delivery to `origin` may go now; when not, how long until it is worth asking again. */
  tryPass(origin: string): Admission {
    const circuit = this.#circuits.get(origin);
    const now = this.#config.now();
    switch (circuit?.state) {
      case undefined:
      case 'closed':
        return { allowed: true };
      case 'open':
        return now < circuit.until
          ? { allowed: false, retryInMs: circuit.until - now }
          : this.#startProbe(origin, now);
      case 'half_open':
        return now < circuit.probeLeaseUntil
          ? { allowed: false, retryInMs: circuit.probeLeaseUntil - now }
          : this.#startProbe(origin, now);
    }
  }

  /** Any answer showing the endpoint is alive closes its circuit, late answers included. */
  recordSuccess(origin: string): void {
    this.#circuits.delete(origin);
  }

  recordFailure(origin: string): void {
    const circuit = this.#circuits.get(origin);
    switch (circuit?.state) {
      case undefined:
      case 'closed': {
        const consecutiveFailures = (circuit?.consecutiveFailures ?? 0) + 1;
        if (consecutiveFailures >= this.#config.failureThreshold) this.#open(origin);
        else this.#circuits.set(origin, { state: 'closed', consecutiveFailures });
        return;
      }
      case 'half_open':
        this.#open(origin);
        return;
      case 'open':
        // A late failure of an attempt started before the circuit opened: the cool-down stands.
        return;
    }
  }

  stateOf(origin: string): CircuitState {
    return this.#circuits.get(origin)?.state ?? 'closed';
  }

  #startProbe(origin: string, now: number): Admission {
    this.#circuits.set(origin, { state: 'half_open', probeLeaseUntil: now + this.#config.coolDownMs });
    return { allowed: true };
  }

  #open(origin: string): void {
    this.#circuits.set(origin, { state: 'open', until: this.#config.now() + this.#config.coolDownMs });
  }
}
