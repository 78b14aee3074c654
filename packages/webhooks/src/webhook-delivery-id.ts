/**
 * Webhook ids (`msg_` + 32 lowercase hex digits, the delivery's primary key and its `webhook-id`
 * header) that sort by creation time, like a UUIDv7: 48 bits of Unix milliseconds, a 16-bit
 * counter that keeps ids made within one millisecond in order, then 64 random bits.
 *
 * Why time-ordered: random keys spread inserts over the whole primary-key index (and the
 * attempts' delivery index): on a table larger than the cache each insert touches a random leaf
 * (a read, and a full-page image in the WAL at the first change of that page after a checkpoint);
 * ordered keys land on the right edge, a few hot pages.
 * Unique across processes by the random part (64 bits within one millisecond and counter value);
 * the same shape as the earlier random ids, so both kinds live in one table.
 */
export class WebhookDeliveryIdGenerator {
  private lastMs = -1;
  private counter = 0;
  /** Random bytes fetched RANDOM_POOL_IDS ids at a time: one getrandom call per id cost ~1 % of the notifier's CPU. */
  private pool: Uint8Array = new Uint8Array(0);
  private poolOffset = 0;

  /**
   * @param now  the clock, in Unix ms
   * @param random  n random bytes
   */
  constructor(
    private readonly now: () => number,
    private readonly random: (bytes: number) => Uint8Array,
  ) {}

  next(): string {
    const clock = Math.floor(this.now());
    // A clock that steps back (NTP) keeps the last millisecond: ids stay in order.
    if (clock > this.lastMs) {
      this.lastMs = clock;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      // 65,536 ids within one millisecond: borrow the next one.
      this.lastMs += 1;
      this.counter = 0;
    }
    const time = this.lastMs.toString(16).padStart(12, '0');
    const counter = this.counter.toString(16).padStart(4, '0');
    return `msg_${time}${counter}${this.randomHex()}`;
  }

  /** 8 random bytes as 16 hex digits. */
  private randomHex(): string {
    if (this.poolOffset + RANDOM_BYTES > this.pool.length) {
      this.pool = this.random(RANDOM_BYTES * RANDOM_POOL_IDS);
      this.poolOffset = 0;
    }
    const hex = Buffer.from(this.pool.buffer, this.pool.byteOffset + this.poolOffset, RANDOM_BYTES).toString(
      'hex',
    );
    this.poolOffset += RANDOM_BYTES;
    return hex;
  }
}

const MAX_COUNTER = 0xffff;
const RANDOM_BYTES = 8;
const RANDOM_POOL_IDS = 256;
