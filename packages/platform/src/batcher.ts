export interface BatcherOptions {
  /** A batch is written as soon as it holds this many items. */
  maxItems: number;
  /**
   * How long the first item of a batch waits for others before the batch is written while
   * another batch is being written, in ms. Short: every caller waits for it, and a busy service
   * fills batches well before it expires. An idle batcher does not wait: it writes at the end
   * of the current turn of the event loop, with whatever that turn added.
   */
  maxWaitMs: number;
  /**
   * Batches being written at once. Items that arrive while every slot is busy collect into the
   * next batch, which is written as soon as a slot frees: the busier the writer, the bigger the
   * batches (group commit). Default 2.
   */
  maxInFlight?: number;
}

/**
 * Writes one batch: returns one result per item, in the items' order. Throwing fails the
 * batch; the batcher then writes each of its items alone, so a bad item fails only its own
 * caller and the others still get their result.
 */
export type WriteBatch<T, R> = (items: T[]) => Promise<R[]>;

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers add items one at a time and each gets its own result (or error) once
 * the batch holding its item has been written; the writes themselves go out as multi-row
 * batches. A caller's promise settles only after its batch's write has returned, so a caller
 * that awaits it knows its item is durable when the write is (a commit, say).
 */
export class Batcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(
    private readonly write: WriteBatch<T, R>,
    private readonly options: BatcherOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.options.maxItems) this.flush();
      else if (this.inFlight === 0 && this.timer === undefined)
        // Nothing is being written: waiting would only add latency (a lightly loaded service).
        this.immediate ??= setImmediate(() => {
          this.immediate = undefined;
          this.flush();
        });
      else
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, this.options.maxWaitMs);
    });
  }

  /**
   * Writes what is pending, in batches of maxItems, as far as free slots allow. What is left
   * goes when a slot frees: by then it has waited for a whole write, so it does not wait more.
   */
  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      clearTimeout(this.timer);
      this.timer = undefined;
      clearImmediate(this.immediate);
      this.immediate = undefined;
      const batch = this.pending.splice(0, this.options.maxItems);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async run(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((p) => p.item));
      if (results.length !== batch.length)
        throw new Error(`batch write returned ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Which item broke the batch is unknown: write each alone, so only that one fails.
      await Promise.all(batch.map((p) => this.run([p])));
    }
  }
}
