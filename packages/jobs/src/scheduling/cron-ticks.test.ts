import { nextTicks, parseCron, planTicks, tickAtOrAfter, type CronTicks } from './cron-ticks.js';

function ticksOf(cron: string, timezone = 'UTC'): CronTicks {
  const parsed = parseCron(cron, timezone);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.ticks;
}
const at = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('parseCron', () => {
  it('names the field at fault with the parser’s own message', () => {
    expect(parseCron('61 * * * *', 'UTC')).toEqual({
      ok: false,
      field: 'cron',
      message: expect.stringContaining('Invalid value for minute: 61'),
    });
    expect(parseCron('* * *', 'UTC')).toMatchObject({ ok: false, field: 'cron' });
    expect(parseCron('* * * * *', 'Mars/Base')).toMatchObject({ ok: false, field: 'timezone' });
    expect(parseCron('*/5 * * * * *', 'Europe/Berlin').ok).toBe(true);
  });

  it('reads 6 fields with seconds first, 5 fields at minute precision', () => {
    expect(isos(nextTicks(ticksOf('*/20 * * * * *'), at('2026-01-01T10:00:00.300Z'), 3))).toEqual([
      '2026-01-01T10:00:20.000Z',
      '2026-01-01T10:00:40.000Z',
      '2026-01-01T10:01:00.000Z',
    ]);
    expect(isos(nextTicks(ticksOf('0 * * * *'), at('2026-01-01T10:00:00Z'), 1))).toEqual([
      '2026-01-01T11:00:00.000Z',
    ]);
  });

  it('includes a tick exactly at the start, excludes one earlier in the same second', () => {
    const everySecond = ticksOf('* * * * * *');
    expect(tickAtOrAfter(everySecond, at('2026-01-01T10:00:00.000Z'))?.toISOString()).toBe(
      '2026-01-01T10:00:00.000Z',
    );
    expect(tickAtOrAfter(everySecond, at('2026-01-01T10:00:00.300Z'))?.toISOString()).toBe(
      '2026-01-01T10:00:01.000Z',
    );
    expect(everySecond.before(at('2026-01-01T10:00:00.300Z'))?.toISOString()).toBe(
      '2026-01-01T10:00:00.000Z',
    );
    expect(everySecond.before(at('2026-01-01T10:00:00.000Z'))?.toISOString()).toBe(
      '2026-01-01T09:59:59.000Z',
    );
  });
});

describe('DST in Europe/Berlin', () => {
  it('runs a fixed-time cron in the spring-forward gap at the first time after it (2026-03-29)', () => {
    // 02:30 does not exist that night: clocks go from 02:00 CET to 03:00 CEST.
    expect(isos(nextTicks(ticksOf('30 2 * * *', 'Europe/Berlin'), at('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('runs a fixed-time cron once when its time occurs twice (2026-10-25)', () => {
    // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(isos(nextTicks(ticksOf('30 2 * * *', 'Europe/Berlin'), at('2026-10-24T12:00:00Z'), 3))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('keeps an hourly cron hourly in real time across both transitions', () => {
    const hourly = ticksOf('30 * * * *', 'Europe/Berlin');
    // Spring: 01:30 CET, (02:30 skipped: it does not exist), 03:30 CEST, 04:30 CEST.
    expect(isos(nextTicks(hourly, at('2026-03-29T00:00:00Z'), 3))).toEqual([
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T02:30:00.000Z',
    ]);
    // Autumn: 01:30 CEST, 02:30 CEST, 02:30 CET (both occurrences), 03:30 CET.
    expect(isos(nextTicks(hourly, at('2026-10-24T23:00:00Z'), 4))).toEqual([
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('reads wall-clock times in the schedule’s zone, not UTC', () => {
    expect(isos(nextTicks(ticksOf('0 9 * * *', 'America/New_York'), at('2026-07-01T00:00:00Z'), 1))).toEqual([
      '2026-07-01T13:00:00.000Z', // 09:00 EDT
    ]);
  });
});

describe('planTicks', () => {
  const everySecond = ticksOf('* * * * * *');
  const plan = (due: string, now: string, catchUp: 'none' | 'latest', graceMs = 1_000, maxTicks = 10) =>
    planTicks(everySecond, { due: at(due), now: at(now), catchUp, graceMs, maxTicks });

  it('fires the tick that has just come, and names the next one', () => {
    expect(plan('2026-01-01T10:00:05Z', '2026-01-01T10:00:05.120Z', 'none')).toEqual({
      fire: [at('2026-01-01T10:00:05Z')],
      skipped: 0,
      next: at('2026-01-01T10:00:06Z'),
    });
  });

  it('fires nothing before the due tick (a scheduler running early)', () => {
    expect(plan('2026-01-01T10:00:06Z', '2026-01-01T10:00:05.900Z', 'latest').fire).toEqual([]);
  });

  it('fires every tick still on time after a short stall', () => {
    const result = plan('2026-01-01T10:00:05Z', '2026-01-01T10:00:06.500Z', 'none', 2_000);
    expect(isos(result.fire)).toEqual(['2026-01-01T10:00:05.000Z', '2026-01-01T10:00:06.000Z']);
  });

  it('catchUp none: drops the ticks missed during downtime, fires the current one', () => {
    const result = plan('2026-01-01T10:00:05Z', '2026-01-01T10:01:00.200Z', 'none');
    expect(isos(result.fire)).toEqual(['2026-01-01T10:01:00.000Z']);
    expect(result.skipped).toBe(55); // 10:00:05 … 10:00:59
    expect(result.next).toEqual(at('2026-01-01T10:01:01Z'));
  });

  it('catchUp latest: runs the most recent missed tick too, once', () => {
    const result = plan('2026-01-01T10:00:05Z', '2026-01-01T10:01:00.200Z', 'latest');
    expect(isos(result.fire)).toEqual(['2026-01-01T10:00:59.000Z', '2026-01-01T10:01:00.000Z']);
    expect(result.skipped).toBe(54);
  });

  it('catchUp latest over a long downtime of a sparse cron: the one latest tick, found without walking the gap', () => {
    const yearly = ticksOf('0 0 1 1 *', 'Europe/Berlin');
    const input = {
      due: at('2020-12-31T23:00:00Z'),
      now: at('2026-06-01T00:00:00Z'),
      graceMs: 1_000,
      maxTicks: 10,
    };
    expect(planTicks(yearly, { ...input, catchUp: 'latest' })).toEqual({
      fire: [at('2025-12-31T23:00:00Z')], // 2026-01-01 00:00 in Berlin
      skipped: 5,
      next: at('2026-12-31T23:00:00Z'),
    });
    expect(planTicks(yearly, { ...input, catchUp: 'none' })).toMatchObject({ fire: [], skipped: 6 });
  });

  it('bounds the ticks of one pass, keeping the newest', () => {
    const result = plan('2026-01-01T10:00:00Z', '2026-01-01T10:00:30Z', 'none', 60_000, 5);
    expect(isos(result.fire)).toEqual([
      '2026-01-01T10:00:26.000Z',
      '2026-01-01T10:00:27.000Z',
      '2026-01-01T10:00:28.000Z',
      '2026-01-01T10:00:29.000Z',
      '2026-01-01T10:00:30.000Z',
    ]);
    expect(result.skipped).toBe(26);
  });

  it('says when a cron has no tick left', () => {
    const once = ticksOf('0 0 0 1 1 *', 'UTC');
    expect(once.after(at('2026-06-01T00:00:00Z'))).toEqual(at('2027-01-01T00:00:00Z'));
  });
});
