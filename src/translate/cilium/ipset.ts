import { bitsOf, cidrContains, cidrCovers, formatIp, type Ip } from '../../api/ip.js';
import type { Cidr } from '../../api/model.js';

// Sets of IP addresses as Cilium's CIDRRule writes them: a prefix minus excepted
// sub-prefixes. A set is a list of disjoint blocks. Differences stay in this form
// (a hole punched into a block becomes an `except`), so a deny of 0.0.0.0/0 minus
// a few accepted addresses stays one `toCIDRSet` entry.

export interface IpBlock {
  readonly base: Cidr;
  /** Disjoint prefixes strictly inside `base`, sorted. */
  readonly except: readonly Cidr[];
}

export type IpSet = readonly IpBlock[];

export function cidr(family: 4 | 6, address: bigint, prefix: number): Cidr {
  return { family, address, prefix, text: `${formatIp({ family, value: address })}/${prefix}` };
}

export const ALL_V4: Cidr = cidr(4, 0n, 0);
export const ALL_V6: Cidr = cidr(6, 0n, 0);
export const ALL_IPS: IpSet = [
  { base: ALL_V4, except: [] },
  { base: ALL_V6, except: [] },
];

function overlap(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefix - b.prefix;
}

/** Merges sibling excepts into their parent; undefined when the excepts cover the base. */
function normalizeBlock(base: Cidr, except: readonly Cidr[]): IpBlock | undefined {
  let ex = [...except].sort(compareCidr);
  for (;;) {
    if (ex.some((e) => e.prefix === base.prefix)) return undefined;
    let merged = false;
    for (let i = 0; i + 1 < ex.length; i++) {
      const a = ex[i]!;
      const b = ex[i + 1]!;
      if (a.prefix !== b.prefix || a.prefix === 0) continue;
      const bit = BigInt(bitsOf(a.family) - a.prefix);
      if ((a.address >> bit) % 2n === 0n && b.address === a.address + (1n << bit)) {
        const parent = cidr(a.family, a.address, a.prefix - 1);
        ex = [...ex.slice(0, i), parent, ...ex.slice(i + 2)].sort(compareCidr);
        merged = true;
        break;
      }
    }
    if (!merged) return { base, except: ex };
  }
}

function subtractCidrFromBlock(block: IpBlock, p: Cidr): IpBlock[] {
  if (!overlap(block.base, p)) return [block];
  if (cidrCovers(p, block.base)) return [];
  if (block.except.some((e) => cidrCovers(e, p))) return [block];
  const b = normalizeBlock(block.base, [...block.except.filter((e) => !cidrCovers(p, e)), p]);
  return b === undefined ? [] : [b];
}

function subtractBlock(block: IpBlock, other: IpBlock): IpBlock[] {
  const pieces = subtractCidrFromBlock(block, other.base);
  // Addresses `other` excepts are not removed.
  for (const e of other.except) {
    if (!overlap(block.base, e)) continue;
    if (cidrCovers(e, block.base)) {
      pieces.push(block);
      continue;
    }
    if (block.except.some((x) => cidrCovers(x, e))) continue;
    const b = normalizeBlock(
      e,
      block.except.filter((x) => cidrCovers(e, x)),
    );
    if (b !== undefined) pieces.push(b);
  }
  return pieces;
}

export function subtractIps(a: IpSet, b: IpSet): IpBlock[] {
  let current: IpBlock[] = [...a];
  for (const cut of b) current = current.flatMap((block) => subtractBlock(block, cut));
  return sortBlocks(current);
}

export function unionIps(a: IpSet, b: IpSet): IpBlock[] {
  return sortBlocks([...a, ...subtractIps(b, a)]);
}

export function ipSetOf(cidrs: readonly Cidr[]): IpBlock[] {
  // Single addresses (pods', nodes') never contain one another: sorted and de-duplicated they
  // are the set, as the unions below would make it — without their quadratic cost on big clusters.
  if (cidrs.every((c) => c.prefix === bitsOf(c.family))) {
    const sorted = [...cidrs].sort(compareCidr);
    return sorted.filter((c, i) => i === 0 || compareCidr(sorted[i - 1]!, c) !== 0).map((base) => ({ base, except: [] }));
  }
  let out: IpBlock[] = [];
  for (const c of cidrs) out = unionIps(out, [{ base: c, except: [] }]);
  return out;
}

function sortBlocks(blocks: IpBlock[]): IpBlock[] {
  return blocks.sort((x, y) => compareCidr(x.base, y.base));
}

export function isEmptyIps(a: IpSet): boolean {
  return a.length === 0;
}

export function ipsContain(a: IpSet, b: IpSet): boolean {
  return subtractIps(b, a).length === 0;
}

/** True when certainly disjoint (false may also mean "could not tell cheaply"). */
export function ipsDisjoint(a: IpSet, b: IpSet): boolean {
  for (const x of a) {
    for (const y of b) {
      if (!overlap(x.base, y.base)) continue;
      const inner = cidrCovers(x.base, y.base) ? y.base : x.base;
      if (x.except.some((e) => cidrCovers(e, inner)) || y.except.some((e) => cidrCovers(e, inner))) continue;
      return false;
    }
  }
  return true;
}

export function ipSetHas(a: IpSet, ip: Ip): boolean {
  return a.some((b) => cidrContains(b.base, ip) && !b.except.some((e) => cidrContains(e, ip)));
}

export function ipsKey(a: IpSet): string {
  return a.map((b) => (b.except.length === 0 ? b.base.text : `${b.base.text}\\${b.except.map((e) => e.text).join('\\')}`)).join(',');
}
