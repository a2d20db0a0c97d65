import type { Policy } from '../../api/model.js';
import { shortHash } from '../ownership.js';

// Names of generated Calico objects.
//
// GlobalNetworkPolicy: `<tier>.<suffix>`. Calico's `globalNetworkPolicyNameRegex` allows at most one
// dot and 253 characters (fewer for Felix's nftables mode: maxPolicyName), and on 3.29–3.31 a policy in a non-default tier must be named
// `<tier>.<name>` because Felix takes the tier from the name (reference/calico.md §1.4, §4.3).
// CNP names are DNS subdomains (a-z, 0-9, '-', '.'), so:
//   - a CNP name without dots that fits is used as it is: `cnp-admin.deny-egress`;
//   - any other name is mapped to `<name with dots as dashes, cut to fit>-<hash of the full name>`:
//     `cnp-admin.team-a-web-3f9c0b12` for `team-a.web`.
// Mapped names could in principle equal another CNP's unmapped name (or another mapped name): the
// mapping is computed over all CNPs at once, unmapped names win, and a mapped name that is taken
// is re-hashed with a counter (in CNP name order) until it is free. So names are collision-free,
// deterministic, and change only in that (astronomically rare) case.

export const MAX_POLICY_NAME = 253;

/**
 * Felix's nftables data plane names a policy's chains `filter-cali-pi-<tier>/<policy name>`
 * (3.29–3.31; 3.32: `…-gnp/<policy name>`), and a kernel nftables name has at most 255
 * characters. Past that, Felix does not shorten it: nft refuses the chain, or (over 256 without
 * the table prefix) Felix's GetLengthLimitedID slices its 43-character hash to 247. Either way
 * Felix exits, on every node. Seen with Felix 3.31.7 and names of 235 and 253 characters
 * (test/engines/calico).
 */
const NFT_NAME_MAX = 255;
const FELIX_POLICY_CHAIN_PREFIX = 'filter-cali-pi-';

/** The longest policy name in `tier` that both Calico's validator and Felix's nftables mode take. */
export function maxPolicyName(tier: string): number {
  return Math.min(MAX_POLICY_NAME, NFT_NAME_MAX - FELIX_POLICY_CHAIN_PREFIX.length - Math.max(tier.length, 'gnp'.length) - 1);
}

const NAME_PART = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HASH_LENGTH = 8;

function salted(name: string, attempt: number): string {
  return shortHash(attempt === 0 ? name : `${name}#${attempt}`);
}

/** The suffix for a name that cannot be used as it is, without the collision handling. */
function mappedSuffix(name: string, budget: number, attempt: number): string {
  const room = budget - 1 - HASH_LENGTH;
  const base = name.replace(/\./g, '-').slice(0, room).replace(/-+$/, '');
  const hash = salted(name, attempt);
  return base === '' ? hash : `${base}-${hash}`;
}

/**
 * GlobalNetworkPolicy names for a set of CNPs (keyed by CNP name), given each CNP's Calico tier.
 * Collision-free across the whole set.
 */
export function policyNames(policies: readonly Policy[], tierOf: (p: Policy) => string): Map<string, string> {
  const result = new Map<string, string>();
  const taken = new Set<string>();
  const mapped: Policy[] = [];
  for (const p of [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const tier = tierOf(p);
    const direct = `${tier}.${p.name}`;
    if (NAME_PART.test(p.name) && direct.length <= maxPolicyName(tier)) {
      result.set(p.name, direct);
      taken.add(direct);
    } else {
      mapped.push(p);
    }
  }
  for (const p of mapped) {
    const tier = tierOf(p);
    const budget = maxPolicyName(tier) - tier.length - 1;
    for (let attempt = 0; ; attempt++) {
      const name = `${tier}.${mappedSuffix(p.name, budget, attempt)}`;
      if (!taken.has(name)) {
        result.set(p.name, name);
        taken.add(name);
        break;
      }
    }
  }
  return result;
}

// ---- GlobalNetworkSets for `nodes` peers ----

/**
 * 64 bits of hash as 16 hex digits (two independent 32-bit FNV-1a variants): ids that must not
 * collide across thousands of sets. Collisions are still handled by the allocator.
 */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Allocates node-set ids (label values) and names, collision-free within one translation. */
export class NodeSetNames {
  private readonly ids = new Set<string>();

  /** The id of the set for one CNP's node selector (keyed by the selector's canonical text). */
  allocate(policyName: string, selectorKey: string): string {
    for (let attempt = 0; ; attempt++) {
      const id = hash64(`${policyName}\n${selectorKey}${attempt === 0 ? '' : `\n${attempt}`}`);
      if (!this.ids.has(id)) {
        this.ids.add(id);
        return id;
      }
    }
  }

  /** `<gnp suffix, cut to 40>-nodes-<id>`: at most 63 characters, no dots. */
  static setName(gnpName: string, id: string): string {
    const suffix = gnpName.slice(gnpName.indexOf('.') + 1);
    const base = suffix.slice(0, 40).replace(/-+$/, '');
    return `${base}-nodes-${id}`;
  }
}
