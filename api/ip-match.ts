import { BlockList, isIP } from 'node:net';

/**
 * Address matching for the IP allow/deny lists and the trusted-proxy setting, on `node:net` BlockList
 * (IPv4 and IPv6; an IPv4-mapped IPv6 address such as `::ffff:10.0.0.1` matches IPv4 rules and back).
 */

export type IpFamily = 'ipv4' | 'ipv6';

export interface Cidr {
  address: string;
  prefix: number;
  family: IpFamily;
}

/** Named groups accepted in `EDGEPORT_TRUSTED_PROXIES`, as Express's `trust proxy` knows them. */
export const PROXY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Strips an IPv6 zone (`fe80::1%eth0`) and returns the address with its family, or null when it is no address. */
export function parseAddress(value: string | undefined): { address: string; family: IpFamily } | null {
  if (!value) return null;
  const address = value.includes('%') ? value.slice(0, value.indexOf('%')) : value;
  const v = isIP(address);
  return v === 4 ? { address, family: 'ipv4' } : v === 6 ? { address: address.toLowerCase(), family: 'ipv6' } : null;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128); null when invalid. */
export function parseCidr(value: string): Cidr | null {
  const text = value.trim();
  const slash = text.indexOf('/');
  const head = slash < 0 ? text : text.slice(0, slash);
  const addr = head.includes('%') ? null : parseAddress(head);
  if (!addr) return null;
  const max = addr.family === 'ipv4' ? 32 : 128;
  if (slash < 0) return { ...addr, prefix: max };
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { ...addr, prefix: Number(bits) };
}

export const formatCidr = (c: Cidr): string => `${c.address}/${c.prefix}`;

/** A set of CIDRs that answers "is this address in it?". */
export class AddressSet {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws on an invalid CIDR: validate user input with {@link parseCidr} first. */
  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const c = parseCidr(text);
      if (!c) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
    }
    this.size = cidrs.length;
  }

  /** False for anything that is not an IP address. */
  has(address: string | undefined): boolean {
    const a = parseAddress(address);
    return a !== null && this.list.check(a.address, a.family);
  }
}

/** The allow and deny lists as one decision: deny wins; a non-empty allow list admits only its members. */
export class IpPolicy {
  private readonly allow: AddressSet;
  private readonly deny: AddressSet;

  constructor(lists: { allow: readonly string[]; deny: readonly string[] }) {
    this.allow = new AddressSet(lists.allow);
    this.deny = new AddressSet(lists.deny);
  }

  get empty(): boolean {
    return this.allow.size === 0 && this.deny.size === 0;
  }

  /** An unknown or unparseable client address passes only when both lists are empty. */
  admits(address: string | undefined): boolean {
    if (this.empty) return true;
    if (!parseAddress(address)) return false;
    if (this.deny.has(address)) return false;
    return this.allow.size === 0 || this.allow.has(address);
  }
}

/** Expands `loopback`/`linklocal`/`uniquelocal` and validates the rest as CIDRs; throws naming the bad entry. */
export function trustedProxyCidrs(entries: readonly string[]): string[] {
  return entries.flatMap((e) => {
    const alias = PROXY_ALIASES[e];
    if (alias) return [...alias];
    if (!parseCidr(e)) throw new Error(`not an address, CIDR or one of ${Object.keys(PROXY_ALIASES).join('/')}: ${JSON.stringify(e)}`);
    return [e];
  });
}
