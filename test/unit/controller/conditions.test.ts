import { describe, expect, it } from 'vitest';
import { computeConditions, conditionsEqual, type Condition, type ConditionInput } from '../../../src/controller/conditions.js';
import { changedOwners, groupTranslation } from '../../../src/controller/desired.js';
import type { Finding, KubeObject } from '../../../src/translate/types.js';

const ok: ConditionInput = { generation: 3, errors: [], unsupported: [], warnings: [], program: { kind: 'programmed', objects: 1, backend: 'calico' }, findings: [] };
const byType = (list: Condition[]): Record<string, Condition> => Object.fromEntries(list.map((c) => [c.type, c]));

describe('status conditions', () => {
  it('a valid, programmed, exact policy', () => {
    const c = byType(computeConditions(ok, [], 't1'));
    expect(c['Accepted']).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 3, lastTransitionTime: 't1' });
    expect(c['Programmed']).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(c['Exact']).toMatchObject({ status: 'True', reason: 'Exact' });
  });

  it('keeps lastTransitionTime while a status holds, and moves it when it flips', () => {
    const first = computeConditions(ok, [], 't1');
    const same = computeConditions({ ...ok, generation: 4 }, first, 't2');
    expect(same.every((c) => c.lastTransitionTime === 't1')).toBe(true);
    const finding: Finding = { policy: 'p', direction: 'egress', ruleIndex: 2, ruleName: 'dns', kind: 'unsupported-peer', effect: 'accept-narrowed', message: 'domainNames are not enforced by Calico open source' };
    const flipped = byType(computeConditions({ ...ok, findings: [finding] }, first, 't3'));
    expect(flipped['Exact']).toMatchObject({ status: 'False', reason: 'Approximated', lastTransitionTime: 't3' });
    expect(flipped["Exact"]!.message).toBe('egress[2] "dns": domainNames are not enforced by Calico open source (fails closed: accepts less than written)');
    expect(flipped['Accepted']).toMatchObject({ lastTransitionTime: 't1' });
  });

  it.each([
    [{ kind: 'invalid' } as const, 'Invalid'],
    [{ kind: 'backend-unavailable', message: 'no Calico' } as const, 'BackendUnavailable'],
    [{ kind: 'apply-failed', message: '500' } as const, 'ApplyFailed'],
    [{ kind: 'conflict', message: 'not ours' } as const, 'Conflict'],
  ])('not programmed: %o', (program, reason) => {
    const c = byType(computeConditions({ ...ok, program }, [], 't'));
    expect(c['Programmed']).toMatchObject({ status: 'False', reason });
    expect(c['Exact']).toMatchObject({ status: 'Unknown', reason: 'NotProgrammed' });
  });

  it('where the CNI enforces CNPs itself: programmed, by the CNI, and exact unless a measured departure applies', () => {
    const c = byType(computeConditions({ ...ok, program: { kind: 'native-enforcement', message: 'Calico 3.32 enforces it' } }, [], 't'));
    expect(c['Programmed']).toMatchObject({ status: 'True', reason: 'NativeEnforcement', message: 'Calico 3.32 enforces it' });
    expect(c['Exact']).toMatchObject({ status: 'True', reason: 'NativeEnforcement' });
    const departed = byType(
      computeConditions({ ...ok, program: { kind: 'native-enforcement', message: 'm' }, findings: [{ policy: 'p', direction: 'egress', ruleIndex: 0, kind: 'native', effect: 'accept-widened', message: 'Cilium applies it to isolated pods' }] }, [], 't'),
    );
    expect(departed['Exact']).toMatchObject({ status: 'False', reason: 'NativeDeviation', message: 'egress[0]: Cilium applies it to isolated pods (NOT fail-closed: accepts more than written)' });
  });

  it('findings that change no verdict are shown as notes and leave Exact True', () => {
    const resync = { policy: 'p', direction: 'egress' as const, ruleIndex: 1, kind: 'native' as const, effect: 'none' as const, message: 'every change of this CNP makes Calico resync its CNPs' };
    const native = byType(computeConditions({ ...ok, program: { kind: 'native-enforcement', message: 'm' }, findings: [resync] }, [], 't'));
    expect(native['Exact']).toMatchObject({ status: 'True', reason: 'NativeEnforcement', message: expect.stringContaining('Note: egress[1]: every change of this CNP makes Calico resync its CNPs') });
    const empty = { ...resync, kind: 'node-peer-empty' as const, message: 'the nodes peer selects no node now' };
    const programmed = byType(computeConditions({ ...ok, findings: [empty] }, [], 't'));
    expect(programmed['Exact']).toMatchObject({ status: 'True', reason: 'Exact', message: 'The backend enforces exactly this policy. Note: egress[1]: the nodes peer selects no node now' });
  });

  it('invalid and unsupported specs', () => {
    expect(byType(computeConditions({ ...ok, errors: ['spec.priority: is required'] }, [], 't'))['Accepted']).toMatchObject({ status: 'False', reason: 'Invalid', message: 'spec.priority: is required' });
    expect(byType(computeConditions({ ...ok, unsupported: ['spec.egress[0]: unknown peer'] }, [], 't'))['Accepted']).toMatchObject({ status: 'False', reason: 'UnsupportedField' });
  });

  it('clips huge messages to the API limit', () => {
    const c = byType(computeConditions({ ...ok, errors: ['x'.repeat(40000)] }, [], 't'));
    expect(c["Accepted"]!.message.length).toBeLessThanOrEqual(32768);
  });

  it('compares conditions as a reader sees them', () => {
    const a = computeConditions(ok, [], 't');
    expect(conditionsEqual(a, computeConditions(ok, a, 't2'))).toBe(true);
    expect(conditionsEqual(a, computeConditions({ ...ok, generation: 9 }, a, 't2'))).toBe(false);
  });
});

const obj = (name: string, owner?: string, spec: unknown = {}): KubeObject => ({
  apiVersion: 'x/v1',
  kind: 'K',
  metadata: { name, ...(owner === undefined ? {} : { annotations: { 'policy.cnp-operator.io/cnp': owner } }) },
  spec,
});

describe('desired state', () => {
  it('groups objects by owner, shared ones under the empty key', () => {
    const d = groupTranslation({ objects: [obj('tier'), obj('a1', 'a'), obj('b1', 'b'), obj('a2', 'a')], findings: [] });
    expect([...d.fingerprints.keys()].map((k) => [k, d.objects(k).map((o) => o.metadata.name)])).toEqual([
      ['', ['tier']],
      ['a', ['a1', 'a2']],
      ['b', ['b1']],
    ]);
  });

  it('finds exactly the owners whose objects or findings changed', () => {
    const before = groupTranslation({ objects: [obj('a1', 'a', { x: 1 }), obj('b1', 'b')], findings: [] });
    const after = groupTranslation({ objects: [obj('a1', 'a', { x: 2 }), obj('b1', 'b'), obj('c1', 'c')], findings: [{ policy: 'b', kind: 'size-limit', effect: 'deny-widened', message: 'm' }] });
    expect(changedOwners(before, after).sort()).toEqual(['a', 'b', 'c']);
    expect(changedOwners(after, after)).toEqual([]);
  });
});
