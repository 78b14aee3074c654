import { classifyAddress, parseIpAddress } from './address-category.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'cloud_metadata'],
    ['fd00:ec2::254', 'cloud_metadata'],
    ['100.100.100.200', 'cloud_metadata'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'cloud_metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    // IPv4-translated (RFC 6145): judged as the IPv4 address carried in the last 32 bits.
    ['::ffff:0:a9fe:a9fe', 'cloud_metadata'],
    ['::ffff:0:169.254.169.254', 'cloud_metadata'],
    ['0:0:0:0:ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:a00:1', 'private'],
    ['::ffff:0:0:0', 'unspecified'],
    ['::ffff:0:808:808', 'public'],
    // Not translated: a different group before the IPv4 part.
    ['::ffff:1:a9fe:a9fe', 'public'],
    ['1::ffff:0:a9fe:a9fe', 'public'],
    ['example.com', 'not_an_ip'],
    ['', 'not_an_ip'],
  ])('%s is %s', (ip, category) => {
    expect(classifyAddress(ip)).toBe(category);
  });
});

describe('parseIpAddress', () => {
  it('unwraps an IPv4-translated address to the IPv4 address it reaches', () => {
    expect(parseIpAddress('::ffff:0:a9fe:a9fe')).toEqual({ address: '169.254.169.254', family: 'ipv4' });
    expect(parseIpAddress('::FFFF:0:A9FE:A9FE%eth0')).toEqual({ address: '169.254.169.254', family: 'ipv4' });
  });

  it('keeps other addresses as they are, without their zone', () => {
    expect(parseIpAddress('fe80::1%eth0')).toEqual({ address: 'fe80::1', family: 'ipv6' });
    expect(parseIpAddress('10.0.0.1')).toEqual({ address: '10.0.0.1', family: 'ipv4' });
    expect(parseIpAddress('::ffff:10.0.0.1')).toEqual({ address: '::ffff:10.0.0.1', family: 'ipv6' });
    expect(parseIpAddress('example.com')).toBeUndefined();
  });
});
