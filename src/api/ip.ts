import type { Cidr } from './model.js';

// IP parsing is written here rather than taken from node:net so the pure core
// stays free of Node built-ins and behaves the same in any runtime.

export interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!V4_PART.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  if (text.length === 0 || text.includes('%')) return undefined;
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIp(text: string): Ip | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 4, value };
}

export function bitsOf(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function computeMask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

// Masks are asked for per address on large clusters: computed once per family and prefix.
const MASKS: Record<4 | 6, readonly bigint[]> = {
  4: Array.from({ length: 33 }, (_, p) => computeMask(4, p)),
  6: Array.from({ length: 129 }, (_, p) => computeMask(6, p)),
};

function mask(family: 4 | 6, prefix: number): bigint {
  return MASKS[family][prefix] ?? computeMask(family, prefix);
}

export interface ParsedCidr {
  readonly cidr: Cidr;
  /** True when the written address had host bits set (e.g. `10.0.0.1/8`). */
  readonly hadHostBits: boolean;
  /**
   * True for an IPv4-mapped IPv6 address (::ffff:0:0/96, e.g. `::ffff:10.0.0.0/104`), which
   * Kubernetes' CEL `isCIDR` refuses: it would match nothing an IPv4 packet carries.
   */
  readonly ipv4Mapped: boolean;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses `address/prefix` as Go's net.ParseCIDR (and CEL's isCIDR) would accept it. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bitsOf(ip.family)) return undefined;
  const address = ip.value & mask(ip.family, prefix);
  const canonical = `${formatIp({ family: ip.family, value: address })}/${prefix}`;
  const ipv4Mapped = ip.family === 6 && ip.value >> 32n === V4_MAPPED_PREFIX >> 32n;
  return { cidr: { family: ip.family, text: canonical, prefix, address }, hadHostBits: address !== ip.value, ipv4Mapped };
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.address;
}

/** True when every address of `inner` is in `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && (inner.address & mask(outer.family, outer.prefix)) === outer.address;
}

export function hostCidr(ip: Ip): Cidr {
  const prefix = bitsOf(ip.family);
  return { family: ip.family, prefix, address: ip.value, text: `${formatIp(ip)}/${prefix}` };
}
