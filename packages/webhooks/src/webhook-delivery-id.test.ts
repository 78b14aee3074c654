import { WebhookDeliveryIdGenerator } from './webhook-delivery-id.js';

const zeros = (n: number) => new Uint8Array(n);
const sorted = (ids: string[]) => [...ids].sort();

describe('WebhookDeliveryIdGenerator', () => {
  it('makes msg_ ids of 32 lowercase hex digits that start with the time in ms', () => {
    const id = new WebhookDeliveryIdGenerator(
      () => 0x0192_3456_789a,
      (n) => new Uint8Array(n).fill(0xab),
    ).next();
    expect(id).toBe('msg_01923456789a0000abababababababab');
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('sorts ids of later milliseconds after earlier ones, as text', () => {
    let clock = 1_700_000_000_000;
    const ids = new WebhookDeliveryIdGenerator(
      () => clock,
      (n) => new Uint8Array(n).fill(0xff),
    );
    const made = [];
    for (let i = 0; i < 5; i += 1) {
      made.push(ids.next());
      clock += 1;
    }
    expect(sorted(made)).toEqual(made);
  });

  it('keeps ids made within one millisecond in order whatever the random part', () => {
    let byte = 0xff;
    const ids = new WebhookDeliveryIdGenerator(
      () => 1_700_000_000_000,
      (n) => new Uint8Array(n).fill((byte -= 17)),
    );
    const made = Array.from({ length: 10 }, () => ids.next());
    expect(sorted(made)).toEqual(made);
    expect(new Set(made).size).toBe(10);
  });

  it('stays in order when the clock steps back', () => {
    const times = [5_000, 5_001, 4_000, 4_500, 5_002];
    const ids = new WebhookDeliveryIdGenerator(() => times.shift()!, zeros);
    const made = Array.from({ length: 5 }, () => ids.next());
    expect(sorted(made)).toEqual(made);
    expect(new Set(made).size).toBe(5);
  });

  it('draws the random part from one pool of 256 ids at a time', () => {
    let draws = 0;
    // First pool: every byte of the i-th id's part is i; second pool: all 0xee.
    const ids = new WebhookDeliveryIdGenerator(
      () => 7,
      (n) => {
        draws += 1;
        return draws === 1
          ? Uint8Array.from({ length: n }, (_, i) => Math.floor(i / 8))
          : new Uint8Array(n).fill(0xee);
      },
    );
    const made = Array.from({ length: 257 }, () => ids.next());
    expect(draws).toBe(2);
    expect(made.slice(0, 256).map((id) => id.slice(-16))).toEqual(
      Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').repeat(8)),
    );
    expect(made[256]!.slice(-16)).toBe('ee'.repeat(8));
  });

  it('moves to the next millisecond once the counter of one is used up', () => {
    const ids = new WebhookDeliveryIdGenerator(() => 0x10, zeros);
    const made = Array.from({ length: 0x10001 }, () => ids.next());
    expect(made[0]).toBe(`msg_${'10'.padStart(12, '0')}0000${'0'.repeat(16)}`);
    expect(made.at(-2)).toBe(`msg_${'10'.padStart(12, '0')}ffff${'0'.repeat(16)}`);
    expect(made.at(-1)).toBe(`msg_${'11'.padStart(12, '0')}0000${'0'.repeat(16)}`);
    expect(new Set(made).size).toBe(made.length);
  });
});
