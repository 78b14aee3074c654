/** Progress reporting and cooperative cancellation for the long-running loops. */

export interface FactorizeProgress {
  /** 0..1, a rough estimate. */
  fraction: number;
  message: string;
}

export interface FactorizeOptions {
  /** Called at most every PROGRESS_INTERVAL_MS. */
  onProgress?: (p: FactorizeProgress) => void;
  /** Polled at least every STOP_POLL_INTERVAL_MS of work; when it returns true, factorize throws FactorizationAborted. */
  shouldStop?: () => boolean;
}

export class FactorizationAborted extends Error {
  constructor(message = 'factorization aborted') {
    super(message);
    this.name = 'FactorizationAborted';
  }
}

const PROGRESS_INTERVAL_MS = 200;
const STOP_POLL_INTERVAL_MS = 10;

/**
 * The algorithms call checkpoint() every few hundred microseconds of work and describe what they are
 * doing with setStage(); the monitor turns that into throttled onProgress calls and shouldStop polls.
 *
 * The fraction is a rough estimate: the share of the input's bits already resolved into primes,
 * plus the current composite's share scaled by how far its factor search has gone.
 */
export class WorkMonitor {
  private readonly totalBits: number;
  private resolvedBits = 0;
  private currentBits = 0;
  private stageFraction = 0;
  private stageMessage = 'starting';
  private lastReport = -Infinity;
  private lastStopPoll = -Infinity;

  constructor(
    private readonly options: FactorizeOptions,
    inputBits: number,
  ) {
    this.totalBits = Math.max(inputBits, 1);
  }

  /** Throws FactorizationAborted when the caller asked to stop; reports progress when it is due. */
  checkpoint(): void {
    const now = performance.now();
    if (this.options.shouldStop !== undefined && now - this.lastStopPoll >= STOP_POLL_INTERVAL_MS) {
      this.lastStopPoll = now;
      if (this.options.shouldStop()) throw new FactorizationAborted();
    }
    if (this.options.onProgress !== undefined && now - this.lastReport >= PROGRESS_INTERVAL_MS) {
      this.lastReport = now;
      this.options.onProgress({ fraction: this.fraction(), message: this.stageMessage });
    }
  }

  /** A factor search starts on a composite of this many bits. */
  startComposite(bits: number): void {
    this.currentBits = bits;
    this.stageFraction = 0;
  }

  /** Bits of the input are now accounted for by primes. */
  resolve(bits: number): void {
    this.resolvedBits += bits;
  }

  /** `fraction` (0..1) of the current composite's search is done, as far as one can tell. */
  setStage(message: string, fraction: number): void {
    this.stageMessage = message;
    this.stageFraction = Math.min(Math.max(fraction, 0), 1);
    this.checkpoint();
  }

  private fraction(): number {
    const estimate = (this.resolvedBits + this.currentBits * this.stageFraction) / this.totalBits;
    return Math.min(estimate, 0.99);
  }
}
