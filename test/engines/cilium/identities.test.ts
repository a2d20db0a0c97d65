import { beforeAll, describe, expect, it } from 'vitest';
import { identityLabelFilter, type CiliumMinor } from '../../../src/translate/cilium/label-filter.js';
import { engineBinary, runEngine, type AgentSettings } from './engine.js';

// The translator's identity label filter against Cilium's own (pkg/labelsfilter as the agent
// configures it, the 1.16–1.18 defaults as the engine emulates them): for many label keys
// on pods and namespaces, kept in the translator's view exactly when the engine's
// identities carry them.

const KEYS = [
  'app', 'team', 'app.kubernetes.io/name', 'app.kubernetes.io', 'kubernetes.io/hostname', 'sub.kubernetes.io/x', 'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region', 'node.beta.kubernetes.io/role', 'beta.kubernetes.io/arch', 'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index', 'batch.kubernetes.io/job-completion-index', 'batch.kubernetes.io/controller-uid', 'k8s.io/x', 'foo.k8s.io/y',
  'pod-template-hash', 'pod-template-generation', 'controller-revision-hash', 'controller-uid', 'annotation', 'annotationx', 'etcd_node',
  'io.kubernetes.x', 'io.cilium.k8s.x', 'io.cilium.k8s.policy.cluster', 'app-x',
];

const SETTINGS: { version: CiliumMinor; labels: string[] }[] = [
  { version: 18, labels: [] },
  { version: 20, labels: [] },
  { version: 20, labels: ['k8s:app', 'k8s:!app-x', 'topology.kubernetes.io'] },
  { version: 18, labels: ['k8s:!team', '!sub\\.kubernetes\\.io'] },
  // Cilium reads the source before the '!': this one ignores nothing (source "!k8s").
  { version: 20, labels: ['!k8s:app'] },
];

beforeAll(() => {
  engineBinary();
});

describe('identity label filter: the translator agrees with Cilium', () => {
  for (const s of SETTINGS) {
    it(`Cilium 1.${s.version}, labels [${s.labels.join(' ')}]`, () => {
      const agent: AgentSettings = { agentVersion: `1.${s.version}`, enableNodeSelectorLabels: false, policyDefaultLocalCluster: false, policyCidrMatchMode: [], labels: s.labels };
      const labels = Object.fromEntries(KEYS.map((k) => [k, 'v']));
      const [result] = runEngine([
        {
          agent,
          cluster: {
            namespaces: [{ name: 'ns', labels: { ...labels, 'kubernetes.io/metadata.name': 'ns' } }],
            nodes: [{ name: 'n', labels: {}, addresses: ['172.18.0.2'] }],
            pods: [{ namespace: 'ns', name: 'p', labels, ips: ['10.244.0.10'], nodeName: 'n', hostNetwork: false, ports: [] }],
          },
          networkPolicies: [],
          ccnps: [],
          cnps: [],
          flows: [],
        },
      ]);
      const identity = new Set(result!.identities['ns/p']);
      const filter = identityLabelFilter(s.version, s.labels);
      const differences = KEYS.flatMap((k) => {
        const out: string[] = [];
        if (filter.pod(k) !== identity.has(`k8s:${k}=v`)) out.push(`pod label ${k}: translator ${filter.pod(k) ? 'keeps' : 'drops'} it`);
        if (filter.namespace(k) !== identity.has(`k8s:io.cilium.k8s.namespace.labels.${k}=v`)) out.push(`namespace label ${k}: translator ${filter.namespace(k) ? 'keeps' : 'drops'} it`);
        return out;
      });
      expect(differences).toEqual([]);
      // Not vacuous: some labels are kept and some dropped.
      expect(KEYS.filter((k) => identity.has(`k8s:${k}=v`)).length).toBeGreaterThan(1);
      expect(KEYS.filter((k) => !identity.has(`k8s:${k}=v`)).length).toBeGreaterThan(1);
    });
  }
});
