import { UNKNOWN_AGENT, type CiliumAgent } from '../../../src/translate/cilium/index.js';
import type { CiliumModelConfig } from '../../models/cilium/model.js';
import type { AgentSettings } from './engine.js';

// The agent configurations the project supports, each as the engine emulates it, as the
// translator is told it (what the operator reads from cilium-config), and as the model takes it.

export interface Configuration {
  readonly name: string;
  readonly agent: AgentSettings;
  readonly translator: CiliumAgent;
  readonly model: Partial<CiliumModelConfig>;
  /** Whether Cilium's own ClusterNetworkPolicy support exists there (1.20), to score it too. */
  readonly native: boolean;
}

export const CONFIGURATIONS: readonly Configuration[] = [
  {
    // 1.16 and 1.17 have no policy-default-local-cluster; 1.18 has it off. The engine's
    // profile is the same for the three (label filter, cluster-wide egress named ports).
    name: '1.16–1.18 defaults',
    agent: { agentVersion: '1.18', enableNodeSelectorLabels: false, policyDefaultLocalCluster: false, policyCidrMatchMode: [] },
    translator: { version: 18, nodeSelectorLabels: false, policyDefaultLocalCluster: false, cidrMatchMode: [] },
    model: { release: '1.18', nodeSelectorLabels: false, policyDefaultLocalCluster: false, cidrMatchMode: [] },
    native: false,
  },
  {
    name: '1.19 defaults',
    agent: { agentVersion: '1.19', enableNodeSelectorLabels: false, policyDefaultLocalCluster: true, policyCidrMatchMode: [] },
    translator: { version: 19, nodeSelectorLabels: false, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    model: { release: '1.19', nodeSelectorLabels: false, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    native: false,
  },
  {
    name: '1.19, enable-node-selector-labels',
    agent: { agentVersion: '1.19', enableNodeSelectorLabels: true, policyDefaultLocalCluster: true, policyCidrMatchMode: [] },
    translator: { version: 19, nodeSelectorLabels: true, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    model: { release: '1.19', nodeSelectorLabels: true, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    native: false,
  },
  {
    name: '1.20 defaults',
    agent: { agentVersion: '1.20', enableNodeSelectorLabels: false, policyDefaultLocalCluster: true, policyCidrMatchMode: [] },
    translator: { version: 20, nodeSelectorLabels: false, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    model: { release: '1.20', nodeSelectorLabels: false, policyDefaultLocalCluster: true, cidrMatchMode: [] },
    native: true,
  },
  {
    // What Cilium documents for its own ClusterNetworkPolicy support (its conformance preflight).
    name: '1.20, enable-node-selector-labels, policy-cidr-match-mode pods,nodes',
    agent: { agentVersion: '1.20', enableNodeSelectorLabels: true, policyDefaultLocalCluster: true, policyCidrMatchMode: ['pods', 'nodes'] },
    translator: { version: 20, nodeSelectorLabels: true, policyDefaultLocalCluster: true, cidrMatchMode: ['pods', 'nodes'] },
    model: { release: '1.20', nodeSelectorLabels: true, policyDefaultLocalCluster: true, cidrMatchMode: ['pods', 'nodes'] },
    native: true,
  },
  {
    // Not a default anywhere: an identity label allow-list and no local-cluster scoping, to
    // exercise the label filter's allow-list and selectors without a cluster constraint.
    name: '1.20, labels k8s:app k8s:team k8s:tier, policy-default-local-cluster off',
    agent: { agentVersion: '1.20', enableNodeSelectorLabels: true, policyDefaultLocalCluster: false, policyCidrMatchMode: ['nodes'], labels: ['k8s:app', 'k8s:team', 'k8s:tier'] },
    translator: { version: 20, nodeSelectorLabels: true, policyDefaultLocalCluster: false, cidrMatchMode: ['nodes'], labels: ['k8s:app', 'k8s:team', 'k8s:tier'] },
    model: { release: '1.20', nodeSelectorLabels: true, policyDefaultLocalCluster: false, cidrMatchMode: ['nodes'], labels: ['k8s:app', 'k8s:team', 'k8s:tier'] },
    native: false,
  },
];

/** What the operator assumes when it cannot read cilium-config: every setting unknown. */
export const CANNOT_TELL: CiliumAgent = UNKNOWN_AGENT;
