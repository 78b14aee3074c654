import { AddressPolicy, classifyAddress } from './address-policy.js';

const strict = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });

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
    ['example.com', 'not_an_ip'],
    ['', 'not_an_ip'],
  ])('%s is %s', (ip, category) => {
    expect(classifyAddress(ip)).toBe(category);
  });
});

describe('AddressPolicy', () => {
  it('refuses every non-public address by default, explaining why', () => {
    for (const ip of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '169.254.169.254',
      'fd00:ec2::254',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      'nonsense',
    ]) {
      expect(strict.isAllowed(ip)).toBe(false);
    }
    expect(strict.isAllowed('93.184.215.14')).toBe(true);
    expect(strict.refusalReason('169.254.169.254')).toBe('169.254.169.254 is a cloud metadata address');
    expect(strict.refusalReason('nonsense')).toBe('"nonsense" is not an IP address');
  });

  it('opens loopback and private ranges only through their own flag', () => {
    const loopback = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });
    expect(loopback.isAllowed('127.0.0.1')).toBe(true);
    expect(loopback.isAllowed('::ffff:127.0.0.1')).toBe(true);
    expect(loopback.isAllowed('10.0.0.1')).toBe(false);

    const internal = new AddressPolicy({ allowLoopback: false, allowPrivate: true, allowList: [] });
    expect(internal.isAllowed('10.0.0.1')).toBe(true);
    expect(internal.isAllowed('fd12::1')).toBe(true);
    expect(internal.isAllowed('127.0.0.1')).toBe(false);
  });

  it('never opens the metadata service or link-local through a flag', () => {
    const permissive = new AddressPolicy({ allowLoopback: true, allowPrivate: true, allowList: [] });
    for (const ip of [
      '169.254.169.254',
      'fd00:ec2::254',
      '100.100.100.200',
      '169.254.1.1',
      'fe80::1',
      '0.0.0.0',
    ]) {
      expect(permissive.isAllowed(ip)).toBe(false);
    }
  });

  it('allows allow-listed CIDRs, single IPs and host names', () => {
    const policy = new AddressPolicy({
      allowLoopback: false,
      allowPrivate: false,
      allowList: ['10.1.0.0/16', '192.168.5.5', 'fd12:3456::/48', 'Hooks.Internal'],
    });
    expect(policy.isAllowed('10.1.200.3')).toBe(true);
    expect(policy.isAllowed('10.2.0.1')).toBe(false);
    expect(policy.isAllowed('192.168.5.5')).toBe(true);
    expect(policy.isAllowed('192.168.5.6')).toBe(false);
    expect(policy.isAllowed('::ffff:10.1.0.1')).toBe(true);
    expect(policy.isAllowed('fd12:3456:0:1::9')).toBe(true);
    expect(policy.isHostAllowListed('hooks.internal')).toBe(true);
    expect(policy.isHostAllowListed('other.internal')).toBe(false);
  });

  it.each(['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129', 'not a host', 'host.example/8'])(
    'fails fast on the malformed allow-list entry %p',
    (entry) => {
      expect(
        () => new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [entry] }),
      ).toThrow(expect.objectContaining({ code: 'invalid_address_policy' }));
    },
  );
});
