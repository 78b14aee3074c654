import { parseCidr, SourceAllowList } from './source-allow-list.js';

describe('parseCidr', () => {
  it('reads ranges and bare addresses of both families', () => {
    expect(parseCidr('10.1.0.0/16')).toEqual({ address: '10.1.0.0', prefix: 16, family: 'ipv4' });
    expect(parseCidr(' 203.0.113.7 ')).toEqual({ address: '203.0.113.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('2001:db8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
  });

  it('refuses what is not an address or a range', () => {
    for (const text of [
      '',
      '10.0.0.0/33',
      '::/129',
      'example.com',
      '10.0.0/8',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '1.2.3.4/',
    ]) {
      expect(parseCidr(text)).toBeUndefined();
    }
  });
});

describe('SourceAllowList', () => {
  const list = new SourceAllowList(['10.1.0.0/16', '203.0.113.7', 'fd00::/8']);

  it('allows addresses in a listed range, in either form a socket reports IPv4', () => {
    expect(list.allows('10.1.200.3')).toBe(true);
    expect(list.allows('::ffff:10.1.200.3')).toBe(true);
    expect(list.allows('203.0.113.7')).toBe(true);
    expect(list.allows('fd12::1')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const address of [
      '10.2.0.1',
      '203.0.113.8',
      '::ffff:10.2.0.1',
      '2001:db8::1',
      '127.0.0.1',
      'not-an-address',
      undefined,
    ]) {
      expect(list.allows(address)).toBe(false);
    }
  });

  it('is not configured when empty, and allows nobody then', () => {
    const empty = new SourceAllowList([]);
    expect(empty.configured).toBe(false);
    expect(empty.allows('127.0.0.1')).toBe(false);
    expect(list.configured).toBe(true);
  });
});
