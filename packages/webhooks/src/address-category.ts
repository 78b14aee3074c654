/**
 * What kind of IP address a webhook would reach: public unicast, or one of the ranges a client
 * must not make us POST to (loopback, private, the cloud metadata service...). Facts about the
 * address space only; which categories are allowed is an address policy's (address-policy.ts).
 */
import { BlockList, isIP } from 'node:net';

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'cloud_metadata'
  | 'link_local'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'not_an_ip';

/** The categories defined by address ranges below. */
export type RangeCategory = Exclude<AddressCategory, 'public' | 'not_an_ip'>;
export type IpFamily = 'ipv4' | 'ipv6';
/** An address as judged: for an IPv6 address embedding an IPv4 one that it reaches, the IPv4 address. */
export interface IpAddress {
  address: string;
  family: IpFamily;
}
type Range = readonly [network: string, prefix: number, family: IpFamily];

/**
 * Checked in this order, so a specific category wins over a broader one containing it
 * (the metadata addresses sit inside link-local and unique-local ranges).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) needs no entries: BlockList judges it as its IPv4 address;
 * IPv4-translated IPv6 (::ffff:0:a.b.c.d) is unwrapped by parseIpAddress.
 */
const RANGES: ReadonlyArray<readonly [RangeCategory, readonly Range[]]> = [
  [
    'cloud_metadata',
    [
      ['169.254.169.254', 32, 'ipv4'], // AWS, GCP, Azure, OpenStack
      ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud
      ['fd00:ec2::254', 128, 'ipv6'], // AWS over IPv6
    ],
  ],
  [
    'unspecified',
    [
      // Connecting to 0.0.0.0 or :: reaches the local host on Linux.
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT, shared address space
      ['fc00::', 7, 'ipv6'], // unique local
    ],
  ],
  [
    'link_local',
    [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  ],
  ['broadcast', [['255.255.255.255', 32, 'ipv4']]],
  [
    'multicast',
    [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
  [
    'reserved',
    [
      ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
      ['192.0.2.0', 24, 'ipv4'], // documentation
      ['198.18.0.0', 15, 'ipv4'], // benchmarking
      ['198.51.100.0', 24, 'ipv4'], // documentation
      ['203.0.113.0', 24, 'ipv4'], // documentation
      ['240.0.0.0', 4, 'ipv4'], // future use
      ['::', 96, 'ipv6'], // deprecated IPv4-compatible addresses
      ['64:ff9b::', 96, 'ipv6'], // NAT64: may translate to any IPv4 address, private ones included
      ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
      ['100::', 64, 'ipv6'], // discard-only
      ['2001::', 23, 'ipv6'], // IETF protocol assignments, Teredo included
      ['2001:db8::', 32, 'ipv6'], // documentation
      ['2002::', 16, 'ipv6'], // 6to4: embeds an arbitrary IPv4 address
      ['fec0::', 10, 'ipv6'], // deprecated site-local
    ],
  ],
];

const BLOCK_LISTS = RANGES.map(([category, ranges]) => [category, blockListOf(ranges)] as const);

/** What kind of address `ip` is; `not_an_ip` for anything net.isIP rejects. */
export function classifyAddress(ip: string): AddressCategory {
  const parsed = parseIpAddress(ip);
  return parsed === undefined ? 'not_an_ip' : categoryOf(parsed);
}

export function categoryOf({ address, family }: IpAddress): RangeCategory | 'public' {
  const match = BLOCK_LISTS.find(([, blockList]) => blockList.check(address, family));
  return match?.[0] ?? 'public';
}

/**
 * fe80::1%eth0 → fe80::1: the zone names an interface, the address alone decides the category.
 * An IPv4-translated address (RFC 6145, ::ffff:0:a.b.c.d) is judged as the IPv4 address it
 * carries: a SIIT translator on the path delivers it there, so ::ffff:0:a9fe:a9fe is the
 * metadata service, not a public IPv6 host.
 */
export function parseIpAddress(ip: string): IpAddress | undefined {
  const zoneStart = ip.indexOf('%');
  const address = zoneStart === -1 ? ip : ip.slice(0, zoneStart);
  const family = ipFamilyOf(address);
  if (family !== 'ipv6') return family === undefined ? undefined : { address, family };
  const translated = translatedIpv4(address);
  return translated === undefined ? { address, family } : { address: translated, family: 'ipv4' };
}

export function ipFamilyOf(address: string): IpFamily | undefined {
  switch (isIP(address)) {
    case 4:
      return 'ipv4';
    case 6:
      return 'ipv6';
    default:
      return undefined;
  }
}

/** The a.b.c.d of ::ffff:0:a.b.c.d (groups 0:0:0:0:ffff:0), else undefined. */
function translatedIpv4(ipv6: string): string | undefined {
  const groups = ipv6Groups(ipv6);
  const [g0, g1, g2, g3, g4, g5, high = 0, low = 0] = groups;
  if (g0 !== 0 || g1 !== 0 || g2 !== 0 || g3 !== 0 || g4 !== 0xffff || g5 !== 0) return undefined;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of an address net.isIP already accepted as IPv6 (no zone). */
function ipv6Groups(ipv6: string): number[] {
  const hexGroups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      // A trailing dotted quad stands for the last two groups.
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head = '', tail] = ipv6.split('::');
  if (tail === undefined) return hexGroups(head);
  const before = hexGroups(head);
  const after = hexGroups(tail);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function blockListOf(ranges: readonly Range[]): BlockList {
  const blockList = new BlockList();
  for (const [network, prefix, family] of ranges) blockList.addSubnet(network, prefix, family);
  return blockList;
}
