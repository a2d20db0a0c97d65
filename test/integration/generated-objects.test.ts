import { afterAll, describe, expect, it } from 'vitest';
import { differences } from '../../src/controller/drift.js';
import type { KubeObject, ResourceType } from '../../src/controller/port.js';
import { createKubePort, loadKubeConfig } from '../../src/kube/index.js';
import { translateCalico } from '../../src/translate/calico/index.js';
import { translateCilium } from '../../src/translate/cilium/index.js';
import { kubeconfig } from '../harness/index.js';
import { loadConformance } from '../support/conformance.js';

// Every object the translators generate for the conformance suite (both address families,
// both Calico API forms, Cilium), sent to the real API server as a server-side dry-run apply:
// the installed CRDs (Calico's own, and Cilium's) validate them, and store them unchanged.

const port = createKubePort(loadKubeConfig({ kubeconfig: kubeconfig() }));
afterAll(() => port.close());

const PLURALS: Record<string, string> = {
  Tier: 'tiers',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  GlobalNetworkSet: 'globalnetworksets',
  CiliumClusterwideNetworkPolicy: 'ciliumclusterwidenetworkpolicies',
};

function typeOf(obj: { apiVersion: string; kind: string }): ResourceType {
  const [group, version] = obj.apiVersion.split('/') as [string, string];
  return { group, version, plural: PLURALS[obj.kind]!, kind: obj.kind, namespaced: false };
}

function generated(backend: string): KubeObject[] {
  const unique = new Map<string, KubeObject>();
  for (const family of [4, 6] as const) {
    for (const c of loadConformance(family)) {
      for (const step of c.steps) {
        const sets =
          backend === 'cilium'
            ? [translateCilium(step.snapshot).objects]
            : [translateCalico(step.snapshot, { api: 'projectcalico.org/v3' }).objects, translateCalico(step.snapshot, { api: 'crd.projectcalico.org/v1' }).objects];
        for (const objects of sets) for (const o of objects) unique.set(JSON.stringify(o), o as KubeObject);
      }
    }
  }
  return [...unique.values()];
}

describe.each(['calico', 'cilium'])('the API server accepts every %s object generated for the conformance suite', (backend) => {
  it('server-side dry-run apply with strict field validation', async () => {
    const objects = generated(backend);
    expect(objects.length).toBeGreaterThan(50);
    const rejected: string[] = [];
    const altered: string[] = [];
    for (const obj of objects) {
      try {
        const stored = await port.apply(typeOf(obj), obj, { fieldManager: 'cnp-operator', force: true, dryRun: true });
        // Stored exactly as written (no defaults added, nothing pruned): drift is judged by
        // comparing the live object with what the operator writes, so the two must agree.
        const paths = differences(stored, obj);
        if (paths.length > 0) altered.push(`${obj.kind} ${obj.metadata.name}: ${paths.join(', ')}`);
      } catch (err) {
        rejected.push(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(rejected).toEqual([]);
    expect(altered).toEqual([]);
  }, 600_000);
});
