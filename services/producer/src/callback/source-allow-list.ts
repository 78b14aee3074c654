import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `203.0.113.0/24`, `2001:db8::/32`, or a bare address (that one host); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!match) return undefined;
  const address = match[1]!;
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Source addresses allowed to do something without a key. The address is the TCP peer's, never a
 * forwarded-for header (anyone can write one). IPv4 ranges also match the IPv4-mapped IPv6 form
 * (`::ffff:10.0.0.1`) a dual-stack socket reports.
 */
export class SourceAllowList {
  private readonly ranges = new BlockList();
  readonly configured: boolean;

  /** `cidrs` must parse with parseCidr (the config schema checks them). */
  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`not an address or CIDR range: ${text}`);
      this.ranges.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    this.configured = cidrs.length > 0;
  }

  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    const version = isIP(address);
    if (version === 0) return false;
    return this.ranges.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
