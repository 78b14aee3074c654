import { laneOf } from './publish-lane.js';

const shares = (length: number, lanes: number) => {
  const counts = new Array<number>(lanes).fill(0);
  for (let index = 0; index < length; index++) counts[laneOf(index, length, lanes)]! += 1;
  return counts;
};

describe('laneOf', () => {
  it('splits a callback of 200 messages into eight shares of 25', () => {
    expect(shares(200, 8)).toEqual([25, 25, 25, 25, 25, 25, 25, 25]);
  });

  it('keeps shares within one message of each other when the batch does not divide evenly', () => {
    for (const [length, lanes] of [[7, 3], [201, 8], [5, 8], [1, 4], [33, 32]] as const) {
      const counts = shares(length, lanes);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('gives each lane a contiguous, ascending run of the batch', () => {
    const lanes = Array.from({ length: 50 }, (_, index) => laneOf(index, 50, 4));
    for (let index = 1; index < lanes.length; index++) expect(lanes[index]! - lanes[index - 1]!).toBeGreaterThanOrEqual(0);
    expect(lanes[0]).toBe(0);
    expect(lanes[49]).toBe(3);
  });

  it('puts everything on the one lane there is', () => {
    expect(shares(10, 1)).toEqual([10]);
  });
});
