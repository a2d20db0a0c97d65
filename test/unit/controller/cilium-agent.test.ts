import { describe, expect, it } from 'vitest';
import { agentSettings } from '../../../src/controller/cilium-agent.js';
import { agentFromCiliumConfig, ciliumMinor, translateCilium } from '../../../src/translate/cilium/index.js';
import { resolveAgent } from '../../../src/translate/cilium/options.js';
import { loadConformance } from '../../support/conformance.js';

// The agent settings the operator reads from kube-system/cilium-config and the cilium
// DaemonSet, and what the translation makes of them.

describe('Cilium agent settings', () => {
  it('reads the keys that change what may be written, Cilium-style lists included', () => {
    const agent = agentFromCiliumConfig(
      {
        'enable-node-selector-labels': 'true',
        'policy-default-local-cluster': 'false',
        'policy-cidr-match-mode': 'pods nodes',
        labels: 'k8s:app  k8s:!app-x',
        'node-labels': 'kubernetes.io/hostname,zone',
        'enable-k8s-cluster-network-policy': 'false',
      },
      20,
    );
    expect(agent).toEqual({ version: 20, nodeSelectorLabels: true, policyDefaultLocalCluster: false, cidrMatchMode: ['pods', 'nodes'], labels: ['k8s:app', 'k8s:!app-x'], nodeLabels: ['kubernetes.io/hostname', 'zone'] });
    // Keys left out: Cilium's defaults, the restrictive one where releases differ.
    const defaults = resolveAgent(agentFromCiliumConfig({}));
    expect([defaults.toNodes, defaults.cidrPods, defaults.cidrNodes, defaults.egressNamedPortsPerDestination]).toEqual([false, false, false, false]);
  });

  it('tells the release from the agent image', () => {
    expect(ciliumMinor('quay.io/cilium/cilium:v1.19.3@sha256:0123abcd')).toBe(19);
    expect(ciliumMinor('quay.io/cilium/cilium:v1.16.0')).toBe(16);
    expect(ciliumMinor('1.20')).toBe(20);
    expect(ciliumMinor('quay.io/cilium/cilium:v1.15.4')).toBeUndefined();
    expect(ciliumMinor('quay.io/cilium/cilium@sha256:0123abcd')).toBeUndefined();
    expect(ciliumMinor('quay.io/cilium/cilium:latest')).toBeUndefined();
  });

  it('assumes the most restrictive of everything when cilium-config cannot be read, and says so', () => {
    for (const kind of ['forbidden', 'absent'] as const) {
      const { agent, summary } = agentSettings({ kind }, undefined);
      expect(summary).toContain('most restrictive');
      const r = resolveAgent(agent);
      expect([r.toNodes, r.cidrReachUnknown, r.labels.pod('app'), r.labels.namespace('team')]).toEqual([false, true, false, true]);
    }
    expect(agentSettings({ kind: 'read', data: { 'enable-node-selector-labels': 'true' } }, 19).summary).toContain('enable-node-selector-labels true');
  });

  it('changes the output with the settings: node peers, CIDRs over pods', () => {
    const step = loadConformance(4).find((c) => c.name === 'CNPAdminTierEgressInlineCIDRPeers')!.steps[3]!;
    const plain = translateCilium(step.snapshot, { agent: agentFromCiliumConfig({}, 20) });
    const reach = translateCilium(step.snapshot, { agent: agentFromCiliumConfig({ 'policy-cidr-match-mode': 'pods nodes' }, 20) });
    expect(plain.findings.some((f) => f.kind === 'cidr-covers-pods')).toBe(true);
    expect(reach.findings.some((f) => f.kind === 'cidr-covers-pods')).toBe(false);
  });
});
