import { AddressPolicy, SUBMIT_ADDRESS_POLICY } from './address-policy.js';

const strict = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });

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
      '::ffff:0:a9fe:a9fe',
      '::ffff:0:7f00:1',
      'nonsense',
    ]) {
      expect(strict.isAllowed(ip)).toBe(false);
    }
    expect(strict.isAllowed('93.184.215.14')).toBe(true);
    expect(strict.refusalReason('169.254.169.254')).toBe('169.254.169.254 is a cloud metadata address');
    expect(strict.refusalReason('nonsense')).toBe('"nonsense" is not an IP address');
    expect(strict.refusalReason('::ffff:0:a9fe:a9fe')).toBe('::ffff:0:a9fe:a9fe is a cloud metadata address');
  });

  it('opens loopback and private ranges only through their own flag', () => {
    const loopback = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });
    expect(loopback.isAllowed('127.0.0.1')).toBe(true);
    expect(loopback.isAllowed('::ffff:127.0.0.1')).toBe(true);
    expect(loopback.isAllowed('::ffff:0:7f00:1')).toBe(true);
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
      '::ffff:0:a9fe:a9fe',
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
    expect(policy.isAllowed('::ffff:0:a01:1')).toBe(true);
    expect(policy.isAllowed('::ffff:0:a02:1')).toBe(false);
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

describe('SUBMIT_ADDRESS_POLICY', () => {
  it.each([
    ['169.254.169.254', 'cloud metadata'],
    ['::ffff:0:a9fe:a9fe', 'cloud metadata'],
    ['169.254.10.1', 'link local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
  ])('refuses %s, where no receiver can be', (ip, category) => {
    expect(SUBMIT_ADDRESS_POLICY.refusalReason(ip)).toBe(`${ip} is a ${category} address`);
  });

  // The notifier may be configured to allow these (allowLoopback, allowPrivate, its allow-list).
  it.each(['127.0.0.1', '10.0.0.1', 'fd12::1', '198.18.0.1', '93.184.215.14'])(
    'leaves %s to the notifier',
    (ip) => {
      expect(SUBMIT_ADDRESS_POLICY.refusalReason(ip)).toBeUndefined();
    },
  );

  it('trusts no host name (the notifier allow-list is not known at submit)', () => {
    expect(SUBMIT_ADDRESS_POLICY.isHostAllowListed('hooks.internal')).toBe(false);
  });
});
