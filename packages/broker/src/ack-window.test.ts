import { AckWindow } from './ack-window.js';

/** Deliveries 1..n with their tag as the message. */
function windowOf(n: number, holdMs = 1_000): AckWindow<number> {
  const window = new AckWindow<number>(holdMs);
  for (let tag = 1; tag <= n; tag++) window.delivered(tag, tag);
  return window;
}

describe('AckWindow', () => {
  it('acks a leading run of finished deliveries with one multiple ack on its last tag', () => {
    const window = windowOf(5);
    for (const tag of [3, 1, 2]) window.finish(tag, 0);
    expect(window.take(10)).toEqual({ multiple: 3, alone: [] });
    expect(window.unsettled).toBe(2);
  });

  it('holds a finished delivery while an earlier one runs, then covers it once that one finishes', () => {
    const window = windowOf(3);
    window.finish(2, 0);
    window.finish(3, 0);
    expect(window.take(10)).toEqual({ multiple: undefined, alone: [] });
    window.finish(1, 20);
    expect(window.take(30)).toEqual({ multiple: 3, alone: [] });
    expect(window.unsettled).toBe(0);
  });

  it('acks a held delivery alone once it has waited holdMs, and never covers it again', () => {
    const window = windowOf(3, 100);
    window.finish(2, 0);
    expect(window.take(99)).toEqual({ multiple: undefined, alone: [] });
    expect(window.take(100)).toEqual({ multiple: undefined, alone: [2] });
    window.finish(1, 150);
    // 2 is settled already: the multiple ack must name 1, the last delivery still outstanding.
    expect(window.take(150)).toEqual({ multiple: 1, alone: [] });
    window.finish(3, 160);
    expect(window.take(160)).toEqual({ multiple: 3, alone: [] });
  });

  it('lets a nacked delivery stop blocking, without ever naming it in an ack', () => {
    const window = windowOf(3);
    window.settledAlone(1);
    window.finish(2, 0);
    expect(window.take(0)).toEqual({ multiple: 2, alone: [] });
    window.settledAlone(3);
    expect(window.take(0)).toEqual({ multiple: undefined, alone: [] });
    expect(window.unsettled).toBe(0);
  });

  it('names the next overdue time, and nothing once no delivery is held', () => {
    const window = windowOf(3, 100);
    expect(window.nextDueAt()).toBeUndefined();
    window.finish(3, 40);
    window.finish(2, 50);
    expect(window.nextDueAt()).toBe(140);
    window.finish(1, 60);
    window.take(60);
    expect(window.nextDueAt()).toBeUndefined();
  });

  it('gives back every held delivery before a channel closes', () => {
    const window = windowOf(4);
    window.finish(2, 0);
    window.finish(4, 0);
    expect(window.takeAllHeld()).toEqual([2, 4]);
    expect(window.take(10_000)).toEqual({ multiple: undefined, alone: [] });
    expect(window.unsettled).toBe(2);
  });

  it('ignores a second finish of the same delivery and tags it never saw', () => {
    const window = windowOf(1);
    window.finish(1, 0);
    window.finish(1, 5);
    window.finish(99, 5);
    expect(window.take(5)).toEqual({ multiple: 1, alone: [] });
  });

  it('settles every delivery exactly once under random completion order (and stays small)', () => {
    const n = 5_000;
    const window = new AckWindow<number>(50);
    const acked = new Map<number, number>();
    const record = (tag: number) => acked.set(tag, (acked.get(tag) ?? 0) + 1);
    let outstanding = new Set<number>();
    let now = 0;
    let next = 1;
    const running: number[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    while (next <= n || running.length > 0) {
      now += 1;
      for (let i = 0; i < 5 && next <= n; i++, next++) {
        window.delivered(next, next);
        running.push(next);
        outstanding.add(next);
      }
      for (let i = 0; i < 5 && running.length > 0; i++)
        window.finish(running.splice(Math.floor(random() * running.length), 1)[0]!, now);
      const { multiple, alone } = window.take(now);
      if (multiple !== undefined) {
        // What RabbitMQ does with multiple=true: every outstanding tag up to it, which must be outstanding itself.
        expect(outstanding.has(multiple)).toBe(true);
        for (const tag of outstanding) if (tag <= multiple) record(tag);
        outstanding = new Set([...outstanding].filter((tag) => tag > multiple));
      }
      for (const tag of alone) {
        expect(outstanding.has(tag)).toBe(true);
        record(tag);
        outstanding.delete(tag);
      }
    }
    now += 1_000;
    for (const tag of window.take(now).alone) record(tag);
    expect(acked.size).toBe(n);
    expect([...acked.values()].every((count) => count === 1)).toBe(true);
    expect(window.unsettled).toBe(0);
  });
});
