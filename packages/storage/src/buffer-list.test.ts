import { remainderAfter } from './buffer-list.js';

const texts = (buffers: Buffer[]) => buffers.map((b) => b.toString());

describe('remainderAfter', () => {
  const buffers = ['abc', 'de', 'fghi'].map((t) => Buffer.from(t));

  it.each([
    [0, ['abc', 'de', 'fghi']],
    [2, ['c', 'de', 'fghi']],
    [3, ['de', 'fghi']],
    [4, ['e', 'fghi']],
    [8, ['i']],
    [9, []],
  ])('after %i bytes leaves %p', (written, rest) => {
    expect(texts(remainderAfter(buffers, written))).toEqual(rest);
  });

  it('shares memory with the buffers instead of copying', () => {
    const [rest] = remainderAfter(buffers, 1);
    rest![0] = 0x7a;
    expect(buffers[0]!.toString()).toBe('azc');
    buffers[0]![1] = 0x62;
  });
});
