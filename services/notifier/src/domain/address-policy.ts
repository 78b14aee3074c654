/**
 * Which IP addresses a webhook may be delivered to. Callback URLs come from clients, so without
 * this a client could make the notifier POST into our own network (SSRF): the cloud metadata
 * service, the database, an admin port on localhost. Everything that is not public unicast is
 * refused unless the operator opted in.
 */
import { BlockList, isIP } from 'node:net';
import { AppError } from '@conveyor/platform';

export interface AddressPolicyConfig {
  /** 127.0.0.0/8 and ::1: local development and tests only. */
  allowLoopback: boolean;
  /** RFC 1918, CGNAT and unique-local IPv6: on-premises deployments whose receivers are internal. */
  allowPrivate: boolean;
  /** CIDRs ("10.1.0.0/16"), single IPs or exact host names allowed whatever they resolve to. */
  allowList: readonly string[];
}

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
type RangeCategory = Exclude<AddressCategory, 'public' | 'not_an_ip'>;
type Family = 'ipv4' | 'ipv6';
interface ParsedAddress {
  address: string;
  family: Family;
}
type Range = readonly [network: string, prefix: number, family: Family];

/**
 * Checked in this order, so a specific category wins over a broader one containing it
 * (the metadata addresses sit inside link-local and unique-local ranges).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) needs no entries: BlockList judges it as its IPv4 address.
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
  const parsed = parseAddress(ip);
  return parsed === undefined ? 'not_an_ip' : categoryOf(parsed);
}

/** Addresses whose verdict is remembered; past this the memory starts over. */
const MAX_CACHED_VERDICTS = 10_000;

export class AddressPolicy {
  readonly #config: AddressPolicyConfig;
  readonly #allowedRanges: BlockList;
  readonly #allowedHosts: ReadonlySet<string>;
  /** Verdicts by address: the policy never changes, and each webhook checks its address again. */
  readonly #verdicts = new Map<string, string | null>();

  constructor(config: AddressPolicyConfig) {
    this.#config = { ...config };
    this.#allowedRanges = new BlockList();
    const hosts = new Set<string>();
    for (const entry of config.allowList) {
      if (!addAllowedRange(this.#allowedRanges, entry)) hosts.add(parseAllowedHost(entry));
    }
    this.#allowedHosts = hosts;
  }

  /** Whether the notifier may connect to `ip`. Anything it cannot parse is refused. */
  isAllowed(ip: string): boolean {
    return this.refusalReason(ip) === undefined;
  }

  /** Why `ip` is refused, for error messages; undefined when it is allowed. */
  refusalReason(ip: string): string | undefined {
    let verdict = this.#verdicts.get(ip);
    if (verdict === undefined) {
      if (this.#verdicts.size >= MAX_CACHED_VERDICTS) this.#verdicts.clear();
      verdict = this.#judge(ip) ?? null;
      this.#verdicts.set(ip, verdict);
    }
    return verdict ?? undefined;
  }

  #judge(ip: string): string | undefined {
    const parsed = parseAddress(ip);
    if (parsed === undefined) return `"${ip}" is not an IP address`;
    const category = categoryOf(parsed);
    if (category === 'public') return undefined;
    if (this.#allowedRanges.check(parsed.address, parsed.family)) return undefined;
    if (this.#allowedByFlag(category)) return undefined;
    return `${ip} is a ${category.replace('_', ' ')} address`;
  }

  /** An operator-trusted host name: any address it resolves to is allowed. */
  isHostAllowListed(hostname: string): boolean {
    return this.#allowedHosts.has(hostname.toLowerCase());
  }

  #allowedByFlag(category: RangeCategory): boolean {
    switch (category) {
      case 'loopback':
        return this.#config.allowLoopback;
      case 'private':
        return this.#config.allowPrivate;
      // Never unlocked by a flag: an internal deployment needs the private ranges, not the
      // metadata service's credentials. Only an explicit allow-list entry opens these.
      case 'cloud_metadata':
      case 'link_local':
      case 'unspecified':
      case 'multicast':
      case 'broadcast':
      case 'reserved':
        return false;
    }
  }
}

function categoryOf({ address, family }: ParsedAddress): RangeCategory | 'public' {
  const match = BLOCK_LISTS.find(([, blockList]) => blockList.check(address, family));
  return match?.[0] ?? 'public';
}

function blockListOf(ranges: readonly Range[]): BlockList {
  const blockList = new BlockList();
  for (const [network, prefix, family] of ranges) blockList.addSubnet(network, prefix, family);
  return blockList;
}

/** Adds an IP or CIDR allow-list entry; false when the entry is not one (then it is a host name). */
function addAllowedRange(blockList: BlockList, entry: string): boolean {
  const [network = '', prefixText, ...extra] = entry.trim().split('/');
  const family = familyOf(network);
  if (family === undefined && prefixText === undefined) return false;
  if (family === undefined || extra.length > 0) {
    throw invalidEntry(entry, 'a CIDR looks like 10.1.0.0/16 or fd12:3456::/48');
  }
  const maxPrefix = family === 'ipv4' ? 32 : 128;
  // A single IP is its own /32 or /128. The digits check matters: Number('') is 0, "allow all".
  const prefix =
    prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= maxPrefix)) {
    throw invalidEntry(entry, `the prefix length must be 0 to ${maxPrefix}`);
  }
  blockList.addSubnet(network, prefix, family);
  return true;
}

function parseAllowedHost(entry: string): string {
  const host = entry.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    throw invalidEntry(entry, 'expected an IP address, a CIDR or a host name');
  }
  return host;
}

function invalidEntry(entry: string, why: string): AppError {
  return new AppError(
    'invalid_address_policy',
    `Webhook address allow-list entry "${entry}" is invalid: ${why}.`,
  );
}

function familyOf(address: string): Family | undefined {
  switch (isIP(address)) {
    case 4:
      return 'ipv4';
    case 6:
      return 'ipv6';
    default:
      return undefined;
  }
}

/** fe80::1%eth0 → fe80::1: the zone names an interface, the address alone decides the category. */
function parseAddress(ip: string): ParsedAddress | undefined {
  const zoneStart = ip.indexOf('%');
  const address = zoneStart === -1 ? ip : ip.slice(0, zoneStart);
  const family = familyOf(address);
  return family === undefined ? undefined : { address, family };
}
