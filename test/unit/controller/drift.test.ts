import { describe, expect, it } from 'vitest';
import { comparedDigest, differences, mayTakeOver, replacement, slimOwned, writtenBy } from '../../../src/controller/drift.js';
import type { KubeObject } from '../../../src/controller/port.js';

const owner = { apiVersion: 'policy.networking.k8s.io/v1beta1', kind: 'ClusterNetworkPolicy', name: 'p', uid: 'u1', controller: true, blockOwnerDeletion: true };
const want: KubeObject = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkPolicy',
  metadata: { name: 'cnp-admin.p', labels: { 'app.kubernetes.io/managed-by': 'cnp-operator' }, annotations: { 'policy.cnp-operator.io/cnp': 'p' }, ownerReferences: [owner] },
  spec: { order: 10, selector: 'all()', egress: [{ action: 'Deny', destination: { nets: ['10.0.0.0/8'] } }] },
};
const live = (edit: (o: KubeObject) => void = () => undefined): KubeObject => {
  const o = structuredClone({ ...want, metadata: { ...want.metadata, uid: 'x', resourceVersion: '7', managedFields: [{ manager: 'cnp-operator', operation: 'Update' }] }, status: { anything: 1 } });
  edit(o);
  return o;
};

describe('drift: what equal means for a generated object', () => {
  it('is in sync when body, our labels, our annotations and owner references match; others\' labels and status do not matter', () => {
    expect(differences(live(), want)).toEqual([]);
    expect(differences(live((o) => (o.metadata.labels = { ...o.metadata.labels, team: 'x' })), want)).toEqual([]);
  });

  it('names every field someone added, removed or changed', () => {
    expect(differences(live((o) => ((o['spec'] as Record<string, unknown>)['serviceAccountSelector'] = 'nobody == "x"')), want)).toEqual(['spec.serviceAccountSelector']);
    expect(differences(live((o) => ((o['spec'] as Record<string, unknown>)['doNotTrack'] = true)), want)).toEqual(['spec.doNotTrack']);
    expect(differences(live((o) => ((o['spec'] as { egress: unknown[] }).egress.push({ action: 'Allow' }))), want)).toEqual(['spec.egress[1]']);
    expect(differences(live((o) => ((o['spec'] as { egress: unknown[] }).egress = [])), want)).toEqual(['spec.egress[0]']);
    expect(differences(live((o) => ((o['spec'] as Record<string, unknown>)['order'] = 11)), want)).toEqual(['spec.order']);
    expect(differences(live((o) => (o.metadata.labels!['app.kubernetes.io/managed-by'] = 'me')), want)).toEqual(['metadata.labels["app.kubernetes.io/managed-by"]']);
    expect(differences(live((o) => (o.metadata.ownerReferences = [...o.metadata.ownerReferences!, { ...owner, uid: 'u2', controller: false }])), want)).toEqual(['metadata.ownerReferences']);
    expect(differences(live((o) => (o['specs'] = [])), want)).toEqual(['specs']);
  });

  it('a cached object keeps only its body\'s digest, and compares the same way', () => {
    expect(differences(slimOwned(live()), want)).toEqual([]);
    expect(differences(slimOwned(live((o) => ((o['spec'] as Record<string, unknown>)['order'] = 11))), want)).toEqual(['spec']);
    expect(differences(slimOwned(live((o) => (o.metadata.labels!['app.kubernetes.io/managed-by'] = 'me'))), want)).toEqual(['metadata.labels["app.kubernetes.io/managed-by"]']);
    expect(comparedDigest(slimOwned(live()), want)).toBe(comparedDigest(live(), want));
    expect(slimOwned(live())['spec']).toBeUndefined();
  });

  it('compares by a digest that changes with exactly those differences', () => {
    expect(comparedDigest(live(), want)).toBe(comparedDigest(live((o) => (o.metadata.labels!['team'] = 'x')), want));
    expect(comparedDigest(live(), want)).not.toBe(comparedDigest(live((o) => ((o['spec'] as Record<string, unknown>)['order'] = 11)), want));
  });

  it('replaces the whole body and our metadata, keeping others\' labels, finalizers and the resourceVersion', () => {
    const l = live((o) => {
      (o['spec'] as Record<string, unknown>)['doNotTrack'] = true;
      o.metadata.labels!['team'] = 'x';
      (o.metadata as unknown as Record<string, unknown>)['finalizers'] = ['f'];
    });
    const r = replacement(l, want);
    expect(r['spec']).toEqual(want['spec']);
    expect(r.metadata).toMatchObject({ resourceVersion: '7', labels: { team: 'x', 'app.kubernetes.io/managed-by': 'cnp-operator' }, finalizers: ['f'], ownerReferences: [owner] });
    expect(r.metadata.managedFields).toBeUndefined();
    expect(r['status']).toBeUndefined();
    expect(differences({ ...r, metadata: { ...r.metadata } }, want)).toEqual([]);
  });

  it('owns what it wrote, or what names this CNP as controller with its label; never a labelled copy', () => {
    expect(writtenBy(live(), 'cnp-operator')).toBe(true);
    const copy = live((o) => (o.metadata.managedFields = [{ manager: 'kubectl-create', operation: 'Update' }]));
    expect(writtenBy(copy, 'cnp-operator')).toBe(false);
    expect(mayTakeOver(copy, 'cnp-operator', 'u1')).toBe(true);
    expect(mayTakeOver(copy, 'cnp-operator', 'other')).toBe(false);
    expect(mayTakeOver(live((o) => (o.metadata = { name: 'cnp-admin.p' })), 'cnp-operator', 'u1')).toBe(false);
  });
});
