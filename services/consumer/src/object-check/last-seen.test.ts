import { latestPerObject } from './last-seen.js';

describe('latestPerObject', () => {
  it('keeps the latest time of each object, whatever the order', () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const rows = [
      { objectId: 1, lastSeen: t(5) },
      { objectId: 2, lastSeen: t(1) },
      { objectId: 1, lastSeen: t(9) },
      { objectId: 1, lastSeen: t(3) },
    ];
    expect(latestPerObject(rows)).toEqual([
      { objectId: 1, lastSeen: t(9) },
      { objectId: 2, lastSeen: t(1) },
    ]);
  });

  it('returns nothing for nothing', () => {
    expect(latestPerObject([])).toEqual([]);
  });
});
