import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from '../../../../src/api/ip.js';
import type { Operator, Protocol } from '../../../../src/api/model.js';
import { ipSetHas, ipSetOf, subtractIps, unionIps, ipsContain, ipsDisjoint } from '../../../../src/translate/cilium/ipset.js';
import { cubeContains, cubeMatches, cubeOf, cubeRequirements, cubesDisjoint, intersectCube, mergeCubes, subtractCube, type LabelCube } from '../../../../src/translate/cilium/labels.js';
import { portSetOf, portsContain, portsDisjoint, subtractPorts, type NamedPorts, type PortSet } from '../../../../src/translate/cilium/ports.js';

// The set algebra under the compiler, against brute force over small universes.

// ---- labels ----

const KEYS = ['a', 'b'] as const;
const VALUES = ['x', 'y', 'z'] as const;
/** Every label map over KEYS × (absent | VALUES | a value no selector names). */
const UNIVERSE: Record<string, string>[] = (() => {
  const out: Record<string, string>[] = [{}];
  for (const k of KEYS) {
    const next: Record<string, string>[] = [];
    for (const m of out) {
      next.push(m);
      for (const v of [...VALUES, 'w']) next.push({ ...m, [k]: v });
    }
    out.splice(0, out.length, ...next);
  }
  return out;
})();

const requirementArb = fc
  .record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom<Operator>('In', 'NotIn', 'Exists', 'DoesNotExist'), values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }) })
  .map((r) => ({ ...r, values: r.operator === 'Exists' || r.operator === 'DoesNotExist' ? [] : r.values }));
const cubeArb: fc.Arbitrary<LabelCube | undefined> = fc.array(requirementArb, { maxLength: 3 }).map((reqs) => cubeOf(reqs));
const members = (c: LabelCube | undefined) => UNIVERSE.filter((m) => c !== undefined && cubeMatches(c, m)).map((m) => JSON.stringify(m));
const set = (xs: string[]) => [...new Set(xs)].sort();

describe('label cubes', () => {
  it('difference, intersection, containment and merging agree with brute force', () => {
    fc.assert(
      fc.property(cubeArb, cubeArb, (a, b) => {
        if (a === undefined || b === undefined) return;
        const A = members(a);
        const B = new Set(members(b));
        expect(set(subtractCube(a, b).flatMap(members))).toEqual(set(A.filter((m) => !B.has(m))));
        expect(set(members(intersectCube(a, b)))).toEqual(set(A.filter((m) => B.has(m))));
        expect(cubesDisjoint(a, b)).toBe(A.every((m) => !B.has(m)));
        if (cubeContains(a, b)) expect([...B].every((m) => A.includes(m))).toBe(true);
        const merged = mergeCubes(a, b);
        if (merged !== undefined) expect(set(members(merged))).toEqual(set([...A, ...B]));
        // The requirements written out select the same maps.
        const again = cubeOf(cubeRequirements(a));
        expect(set(members(again))).toEqual(set(A));
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- ports ----

const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const POINTS = [1, 2, 3, 4, 5, 6, 7, 8, 65535];
/** Two destination pods and the names they declare. */
const PODS: Record<string, { protocol: Protocol; port: number }>[] = [
  { n: { protocol: 'TCP', port: 3 }, m: { protocol: 'TCP', port: 3 } },
  { n: { protocol: 'TCP', port: 5 }, k: { protocol: 'UDP', port: 3 } },
  {},
];
const NAMES: NamedPorts = {
  values: (name) => PODS.flatMap((p) => (p[name] === undefined ? [] : [p[name]!])),
  overlap: (a, b) => PODS.some((p) => p[a] !== undefined && p[b] !== undefined && p[a]!.port === p[b]!.port && p[a]!.protocol === p[b]!.protocol),
};

const portSetArb: fc.Arbitrary<PortSet> = fc
  .record({
    ranges: fc.array(fc.record({ protocol: fc.constantFrom(...PROTOCOLS), start: fc.constantFrom(1, 2, 3, 5, 7), width: fc.constantFrom(0, 1, 3, 65535) }), { maxLength: 3 }),
    named: fc.uniqueArray(fc.constantFrom('n', 'm', 'k', 'unused'), { maxLength: 2 }),
    other: fc.boolean(),
  })
  .map(({ ranges, named, other }) => portSetOf(ranges.map((r) => ({ protocol: r.protocol, start: r.start, end: Math.min(65535, r.start + r.width) })), named, other));

/** Every (destination pod, traffic) point. */
const POINTS_ALL = PODS.flatMap((_, pod) => [...PROTOCOLS.flatMap((protocol) => POINTS.map((port) => ({ pod, protocol: protocol as Protocol | 'other', port }))), { pod, protocol: 'other' as const, port: 0 }]);
function inPorts(p: PortSet, x: (typeof POINTS_ALL)[number]): boolean {
  if (x.protocol === 'other') return p.other;
  if (p[x.protocol].some((i) => x.port >= i.start && x.port <= i.end)) return true;
  return p.named.some((n) => PODS[x.pod]![n]?.protocol === x.protocol && PODS[x.pod]![n]?.port === x.port);
}

describe('port sets', () => {
  it('difference is exact when it says so, and otherwise errs in the asked direction', () => {
    fc.assert(
      fc.property(portSetArb, portSetArb, (a, b) => {
        const truth = POINTS_ALL.filter((x) => inPorts(a, x) && !inPorts(b, x));
        for (const mode of ['over', 'under'] as const) {
          const d = subtractPorts(a, b, NAMES, mode);
          const got = POINTS_ALL.filter((x) => inPorts(d.ports, x));
          if (d.exact) expect(got).toEqual(truth);
          else if (mode === 'over') expect(truth.every((x) => got.includes(x))).toBe(true);
          else expect(got.every((x) => truth.includes(x))).toBe(true);
        }
        if (portsDisjoint(a, b, NAMES)) expect(POINTS_ALL.some((x) => inPorts(a, x) && inPorts(b, x))).toBe(false);
        if (portsContain(a, b, NAMES)) expect(POINTS_ALL.every((x) => !inPorts(b, x) || inPorts(a, x))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- addresses ----

const cidrArb = fc.oneof(
  fc.record({ last: fc.integer({ min: 0, max: 15 }), prefix: fc.integer({ min: 28, max: 32 }) }).map(({ last, prefix }) => parseCidr(`10.0.0.${last}/${prefix}`)!.cidr),
  fc.constantFrom('0.0.0.0/0', '10.0.0.0/24', '::/0').map((t) => parseCidr(t)!.cidr),
);
const ipSetArb = fc.array(cidrArb, { maxLength: 3 }).map((cs) => ipSetOf(cs));
const ADDRESSES = [...Array.from({ length: 17 }, (_, i) => `10.0.0.${i}`), '10.0.1.1', '192.0.2.1', '::1'].map((a) => parseIp(a)!);

describe('address sets', () => {
  it('difference, union, containment and disjointness agree with brute force', () => {
    fc.assert(
      fc.property(ipSetArb, ipSetArb, (a, b) => {
        const diff = subtractIps(a, b);
        const uni = unionIps(a, b);
        for (const ip of ADDRESSES) {
          expect(ipSetHas(diff, ip)).toBe(ipSetHas(a, ip) && !ipSetHas(b, ip));
          expect(ipSetHas(uni, ip)).toBe(ipSetHas(a, ip) || ipSetHas(b, ip));
        }
        if (ipsContain(a, b)) expect(ADDRESSES.every((ip) => !ipSetHas(b, ip) || ipSetHas(a, ip))).toBe(true);
        if (ipsDisjoint(a, b)) expect(ADDRESSES.some((ip) => ipSetHas(a, ip) && ipSetHas(b, ip))).toBe(false);
        // Excepts stay inside their block, as Cilium requires.
        for (const block of diff) for (const e of block.except) expect(e.prefix > block.base.prefix && e.family === block.base.family).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
