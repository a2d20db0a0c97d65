import type { DesiredState } from '../../src/controller/desired.js';

/**
 * What a desired state says now, as plain data for comparison: objects by owner, findings,
 * fingerprints and owners by key. A copy, because a translator may update its maps in place.
 */
export function desiredView(d: DesiredState): unknown {
  const owners = [...new Set([...d.fingerprints.keys(), ...d.findings.keys()])].sort();
  return structuredClone({
    objects: owners.map((o) => [o, d.objects(o)]),
    findings: [...d.findings.entries()].sort(),
    fingerprints: [...d.fingerprints.entries()].sort(),
    ownerByKey: [...d.ownerByKey.entries()].sort(),
  });
}
