/**
 * Caps the deliveries in flight per origin, so one slow receiver (each attempt waiting out its
 * full timeout) cannot take every worker slot and delay the webhooks of healthy ones.
 */
import { AppError } from '@conveyor/platform';

const DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN = 10;

/** Gives the slot back; calling it more than once is harmless. */
export type ReleaseSlot = () => void;

export class EndpointLimiter {
  readonly #maxInFlight: number;
  /** Only origins with deliveries in flight are kept, so the map stays as small as the work. */
  readonly #inFlight = new Map<string, number>();

  constructor(maxInFlightPerOrigin: number = DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN) {
    if (!Number.isSafeInteger(maxInFlightPerOrigin) || maxInFlightPerOrigin < 1) {
      throw new AppError(
        'invalid_limiter_config',
        `maxInFlightPerOrigin must be a whole number ≥ 1, got ${maxInFlightPerOrigin}.`,
      );
    }
    this.#maxInFlight = maxInFlightPerOrigin;
  }

  /** A slot for one delivery to `origin`, or null when it is at its cap (try another delivery). */
  tryAcquire(origin: string): ReleaseSlot | null {
    const current = this.inFlight(origin);
    if (current >= this.#maxInFlight) return null;
    this.#inFlight.set(origin, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(origin);
    };
  }

  inFlight(origin: string): number {
    return this.#inFlight.get(origin) ?? 0;
  }

  #release(origin: string): void {
    const remaining = this.inFlight(origin) - 1;
    if (remaining > 0) this.#inFlight.set(origin, remaining);
    else this.#inFlight.delete(origin);
  }
}
