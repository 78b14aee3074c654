import { EndpointLimiter } from './endpoint-limiter.js';

describe('EndpointLimiter', () => {
  it('caps deliveries in flight per origin without affecting other origins', () => {
    const limiter = new EndpointLimiter(2);
    const first = limiter.tryAcquire('https://slow.example');
    const second = limiter.tryAcquire('https://slow.example');
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(limiter.tryAcquire('https://slow.example')).toBeNull();
    expect(limiter.tryAcquire('https://healthy.example')).not.toBeNull();
    expect(limiter.inFlight('https://slow.example')).toBe(2);
  });

  it('frees a slot on release, counting a double release once', () => {
    const limiter = new EndpointLimiter(1);
    const release = limiter.tryAcquire('o');
    release?.();
    release?.();
    expect(limiter.inFlight('o')).toBe(0);
    const again = limiter.tryAcquire('o');
    expect(again).not.toBeNull();
    release?.();
    expect(limiter.inFlight('o')).toBe(1);
    expect(limiter.tryAcquire('o')).toBeNull();
  });

  it('defaults to 10 per origin and refuses a nonsensical cap', () => {
    const limiter = new EndpointLimiter();
    const slots = Array.from({ length: 11 }, () => limiter.tryAcquire('o'));
    expect(slots.filter((slot) => slot !== null)).toHaveLength(10);
    expect(() => new EndpointLimiter(0)).toThrow(expect.objectContaining({ code: 'invalid_limiter_config' }));
  });
});
