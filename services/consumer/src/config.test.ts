import { loadConfig } from '@conveyor/platform';
import { ConsumerEnv } from './config.js';

describe('ConsumerEnv', () => {
  it('reads OBJECT_CHECKS_IN_FLIGHT, and MAX_CONSUMERS (its old name) when it is unset', () => {
    expect(loadConfig(ConsumerEnv, {}).OBJECT_CHECKS_IN_FLIGHT).toBe(5_000);
    expect(loadConfig(ConsumerEnv, { MAX_CONSUMERS: '700' }).OBJECT_CHECKS_IN_FLIGHT).toBe(700);
    expect(
      loadConfig(ConsumerEnv, { MAX_CONSUMERS: '700', OBJECT_CHECKS_IN_FLIGHT: '900' })
        .OBJECT_CHECKS_IN_FLIGHT,
    ).toBe(900);
  });

  it('names the variable it refuses, under its current name', () => {
    expect(() => loadConfig(ConsumerEnv, { MAX_CONSUMERS: 'lots' })).toThrow(/OBJECT_CHECKS_IN_FLIGHT/);
  });

  it('takes BUILT_IN_KINDS as true, false or a list of the built-in kinds, and names an unknown one', () => {
    const builtIn = (value?: string) =>
      loadConfig(ConsumerEnv, value === undefined ? {} : { BUILT_IN_KINDS: value }).BUILT_IN_KINDS;
    expect(builtIn()).toEqual(['object-check', 'factorize', 'csv-sum', 'image-resize']);
    expect(builtIn('false')).toEqual([]);
    expect(builtIn(' object-check , image-resize ')).toEqual(['object-check', 'image-resize']);
    expect(() => builtIn('factorize,resize')).toThrow(/"resize" is not a built-in kind/);
  });
});
