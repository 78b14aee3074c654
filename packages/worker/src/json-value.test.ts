import { runInNewContext } from 'node:vm';
import { jsonProblem, toJsonValue } from './json-value.js';

describe('jsonProblem', () => {
  it('accepts JSON, objects from another realm included', () => {
    expect(jsonProblem({ a: [1, 'two', null, true, { b: undefined }], at: new Date(0) })).toBeNull();
    expect(jsonProblem(runInNewContext('({ a: [{ b: 1 }] })'))).toBeNull();
    expect(jsonProblem(Object.create(null))).toBeNull();
  });

  it('names the first part JSON would change', () => {
    expect(jsonProblem({ a: { b: [0, 1n] } })).toBe('a.b.1: a bigint is not JSON (return it as a string)');
    expect(jsonProblem(new Set())).toBe('(root): a Set is not plain JSON');
    expect(jsonProblem({ m: runInNewContext('new Map()') })).toBe('m: a Map is not plain JSON');
    expect(jsonProblem({ f: () => 1 })).toBe('f: a function is not JSON');
    expect(jsonProblem([Number.NaN])).toBe('0: NaN is not a JSON number');
    class Point {
      x = 1;
    }
    expect(jsonProblem({ p: new Point() })).toBe('p: a Point is not plain JSON');
  });

  it('allows shared references that are not cycles', () => {
    const shared = { x: 1 };
    expect(jsonProblem({ a: shared, b: shared })).toBeNull();
  });
});

describe('toJsonValue', () => {
  it('is the JSON form; undefined becomes null', () => {
    expect(toJsonValue(undefined)).toBeNull();
    expect(toJsonValue({ at: new Date(0), gone: undefined })).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });
});
