import { nulCharacterPath } from './nul-characters.js';

describe('nulCharacterPath', () => {
  it('finds no NUL in ordinary JSON', () => {
    expect(nulCharacterPath({ a: ['x', 1, null, { b: 'y' }], c: true })).toBeUndefined();
  });

  it.each([
    ['a\0b', ''],
    [{ path: 'x\0' }, 'path'],
    [{ list: ['ok', { deep: '\0' }] }, 'list.1.deep'],
    [{ 'k\0': 1 }, 'k\\0'],
  ])('names where the NUL is in %j', (value, path) => {
    expect(nulCharacterPath(value)).toBe(path);
  });
});
