/**
 * Which IP addresses a webhook may be delivered to. Callback URLs come from clients, so without
 * this a client could make the notifier POST into our own network (SSRF): the cloud metadata
 * service, the database, an admin port on localhost. Everything that is not public unicast is
 * refused unless the operator opted in. What category an address is belongs to address-category.ts;
 * what each category may do is decided here.
 */
import { BlockList } from 'node:net';
import { AppError } from '@conveyor/platform';
import {
  categoryOf,
  classifyAddress,
  ipFamilyOf,
  parseIpAddress,
  type AddressCategory,
  type RangeCategory,
} from './address-category.js';
import type { CallbackAddressJudge } from './callback-url.js';

export interface AddressPolicyConfig {
  /** 127.0.0.0/8 and ::1: local development and tests only. */
  allowLoopback: boolean;
  /** RFC 1918, CGNAT and unique-local IPv6: on-premises deployments whose receivers are internal. */
  allowPrivate: boolean;
  /** CIDRs ("10.1.0.0/16"), single IPs or exact host names allowed whatever they resolve to. */
  allowList: readonly string[];
}

/** Addresses whose verdict is remembered; past this the memory starts over. */
const MAX_CACHED_VERDICTS = 10_000;

export class AddressPolicy implements CallbackAddressJudge {
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
    const parsed = parseIpAddress(ip);
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

/**
 * Literal IPs refused at submit (the producer). The notifier's policy (loopback, private ranges
 * and an allow-list, all its own configuration) is not known there, so only addresses no receiver
 * can be at are refused then: the metadata service and link-local (SSRF targets), "this host",
 * multicast and broadcast. Anything else the notifier may still refuse at delivery; an operator
 * who allow-lists one of these ranges gives its receivers host names, which are never judged at submit.
 */
const NEVER_A_RECEIVER: ReadonlySet<AddressCategory> = new Set([
  'cloud_metadata',
  'link_local',
  'unspecified',
  'multicast',
  'broadcast',
]);

export const SUBMIT_ADDRESS_POLICY: CallbackAddressJudge = {
  isHostAllowListed: () => false,
  refusalReason(ip) {
    const category = classifyAddress(ip);
    return NEVER_A_RECEIVER.has(category) ? `${ip} is a ${category.replace('_', ' ')} address` : undefined;
  },
};

/** Adds an IP or CIDR allow-list entry; false when the entry is not one (then it is a host name). */
function addAllowedRange(blockList: BlockList, entry: string): boolean {
  const [network = '', prefixText, ...extra] = entry.trim().split('/');
  const family = ipFamilyOf(network);
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
