import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../src/api/cnp.js';
import type { PortMatch, PortRange, Protocol } from '../../src/api/model.js';
import { portsCover } from '../../src/semantics/cover.js';

const protocol = fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP');
const interval: fc.Arbitrary<PortRange> = fc
  .tuple(protocol, fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
  .map(([p, a, b]) => ({ kind: 'range', protocol: p, start: Math.min(a, b), end: Math.max(a, b) }));
const ports = fc.option(fc.array(interval, { minLength: 1, maxLength: 4 }), { nil: undefined });
const flow = fc.record({ protocol, port: fc.integer({ min: 1, max: 65535 }) });

function matches(list: readonly PortMatch[] | undefined, f: { protocol: Protocol; port: number }): boolean {
  return list === undefined || list.some((p) => p.kind === 'range' && p.protocol === f.protocol && f.port >= p.start && f.port <= p.end);
}

describe('port intervals', () => {
  it('covering is sound: a covered port list only matches flows its cover matches', () => {
    fc.assert(
      fc.property(ports, ports, flow, (outer, inner, f) => {
        if (portsCover(outer, inner) && matches(inner, f)) expect(matches(outer, f)).toBe(true);
      }),
    );
  });

  it('a list covers each of its own intervals and itself', () => {
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 4 }), (list) => {
        expect(portsCover(list, list)).toBe(true);
        for (const i of list) expect(portsCover(list, [i])).toBe(true);
        expect(portsCover(undefined, list)).toBe(true);
        expect(portsCover(list, undefined)).toBe(false);
      }),
    );
  });

  it('parsing keeps numbers and ranges as inclusive intervals of one protocol', () => {
    fc.assert(
      fc.property(protocol, fc.integer({ min: 1, max: 65534 }), fc.integer({ min: 1, max: 1000 }), (p, start, width) => {
        const end = Math.min(65535, start + width);
        const key = p.toLowerCase();
        const raw = {
          apiVersion: 'policy.networking.k8s.io/v1alpha2',
          kind: 'ClusterNetworkPolicy',
          metadata: { name: 'p' },
          spec: {
            tier: 'Admin',
            priority: 1,
            subject: { namespaces: {} },
            egress: [{ action: 'Deny', to: [{ namespaces: {} }], protocols: [{ [key]: { destinationPort: { number: start } } }, { [key]: { destinationPort: { range: { start, end } } } }] }],
          },
        };
        const rule = parseClusterNetworkPolicy(raw).policy!.egress[0]!;
        expect(rule.ports).toEqual([
          { kind: 'range', protocol: p, start, end: start },
          { kind: 'range', protocol: p, start, end },
        ]);
      }),
    );
  });
});
