import type { DesiredState } from '../../src/controller/desired.js';

/**
 * What a desired state says now, as plain data for comparison: its owners, objects and
 * findings by owner, and owners by key. A copy, because a translator may update its maps in
 * place. Fingerprints are left out: a translator may make them from its inputs (compare what
 * it reports changed instead).
 */
export function desiredView(d: DesiredState): unknown {
  const owners = [...d.fingerprints.keys()].sort();
  return structuredClone({
    owners,
    objects: owners.map((o) => [o, d.objects(o)]),
    findings: owners.flatMap((o) => (d.findings(o).length === 0 ? [] : [[o, d.findings(o)]])),
    ownerByKey: [...d.ownerByKey.entries()].sort(),
  });
}
