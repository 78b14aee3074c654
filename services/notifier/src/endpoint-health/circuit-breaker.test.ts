import { CircuitBreakers } from './circuit-breaker.js';

function setup() {
  let clock = 1_000_000;
  const breakers = new CircuitBreakers({ failureThreshold: 3, coolDownMs: 30_000, now: () => clock });
  return { breakers, advance: (ms: number) => (clock += ms) };
}

function failTimes(breakers: CircuitBreakers, origin: string, times: number) {
  for (let i = 0; i < times; i++) breakers.recordFailure(origin);
}

describe('CircuitBreakers', () => {
  it('opens after N consecutive failures and refuses during the cool-down', () => {
    const { breakers, advance } = setup();
    failTimes(breakers, 'o', 2);
    expect(breakers.tryPass('o')).toEqual({ allowed: true });
    breakers.recordFailure('o');
    expect(breakers.stateOf('o')).toBe('open');
    advance(10_000);
    expect(breakers.tryPass('o')).toEqual({ allowed: false, retryInMs: 20_000 });
  });

  it('keeps origins apart', () => {
    const { breakers } = setup();
    failTimes(breakers, 'dead', 3);
    expect(breakers.tryPass('dead').allowed).toBe(false);
    expect(breakers.tryPass('healthy')).toEqual({ allowed: true });
  });

  it('resets the count on success: only consecutive failures open it', () => {
    const { breakers } = setup();
    failTimes(breakers, 'o', 2);
    breakers.recordSuccess('o');
    failTimes(breakers, 'o', 2);
    expect(breakers.stateOf('o')).toBe('closed');
  });

  it('lets exactly one probe through after the cool-down; its success closes the circuit', () => {
    const { breakers, advance } = setup();
    failTimes(breakers, 'o', 3);
    advance(30_000);
    expect(breakers.tryPass('o')).toEqual({ allowed: true });
    expect(breakers.stateOf('o')).toBe('half_open');
    expect(breakers.tryPass('o')).toEqual({ allowed: false, retryInMs: 30_000 });
    breakers.recordSuccess('o');
    expect(breakers.stateOf('o')).toBe('closed');
    expect(breakers.tryPass('o')).toEqual({ allowed: true });
  });

  it('reopens for a full cool-down when the probe fails', () => {
    const { breakers, advance } = setup();
    failTimes(breakers, 'o', 3);
    advance(30_000);
    breakers.tryPass('o');
    advance(5_000);
    breakers.recordFailure('o');
    expect(breakers.stateOf('o')).toBe('open');
    expect(breakers.tryPass('o')).toEqual({ allowed: false, retryInMs: 30_000 });
  });

  it('lets another probe through when one never reports back', () => {
    const { breakers, advance } = setup();
    failTimes(breakers, 'o', 3);
    advance(30_000);
    breakers.tryPass('o');
    advance(30_000);
    expect(breakers.tryPass('o')).toEqual({ allowed: true });
  });

  it('does not extend the cool-down for late failures while open', () => {
    const { breakers, advance } = setup();
    failTimes(breakers, 'o', 3);
    advance(20_000);
    failTimes(breakers, 'o', 5);
    expect(breakers.tryPass('o')).toEqual({ allowed: false, retryInMs: 10_000 });
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new CircuitBreakers({ failureThreshold: 0, coolDownMs: 1, now: Date.now })).toThrow(
      expect.objectContaining({ code: 'invalid_circuit_breaker_config' }),
    );
  });
});
