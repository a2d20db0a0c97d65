import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kube, type KubeObject, uniqueName, waitFor } from '../harness/index.js';
import { startOperator, waitForCondition, type RunningOperator } from './operator.js';

// The operator reads the Cilium agent settings that change what it may write
// (kube-system/cilium-config, and the release from the kube-system/cilium DaemonSet's image)
// and follows them: no toNodes unless node selector labels work, node addresses as CIDRs
// where CIDRs reach nodes, and a recomputation when a setting changes.

const CNP = 'policy.networking.k8s.io/v1beta1';
const CCNP = 'cilium.io/v2';
const CCNP_KIND = 'CiliumClusterwideNetworkPolicy';

describe('the operator on Cilium follows the agent settings', () => {
  let op: RunningOperator;
  const ns = uniqueName('agent');
  const key = uniqueName('agent-zone');
  const nodes = [uniqueName('agent-node-a'), uniqueName('agent-node-b')];
  const policy = uniqueName('to-zone-a');

  const config = (data: Record<string, string>) => kube().apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-config', namespace: 'kube-system' }, data });
  const agentImage = (image: string) =>
    kube().apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'kube-system' },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'cilium' } },
        // No node matches: the DaemonSet only has to say which release runs.
        template: { metadata: { labels: { 'k8s-app': 'cilium' } }, spec: { nodeSelector: { [key]: 'no-such-node' }, containers: [{ name: 'cilium-agent', image }] } },
      },
    });
  const specs = async () => JSON.stringify((await kube().get(CCNP, CCNP_KIND, `cnp-${policy}`))?.['specs'] ?? null);

  beforeAll(async () => {
    await kube().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const [i, name] of nodes.entries()) {
      await kube().apply({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [key]: i === 0 ? 'a' : 'b' } }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${120 + i}` }] } } as KubeObject);
    }
    await config({});
    op = await startOperator({ detect: { backend: 'cilium', force: false } });
  });
  afterAll(async () => {
    await op?.stop();
    await kube().delete(CNP, 'ClusterNetworkPolicy', policy);
    await kube().delete('v1', 'Namespace', ns);
    for (const name of nodes) await kube().delete('v1', 'Node', name);
    await kube().delete('apps/v1', 'DaemonSet', 'cilium', 'kube-system');
    await kube().delete('v1', 'ConfigMap', 'cilium-config', 'kube-system');
  });

  it('writes no toNodes while enable-node-selector-labels is off, and says why the nodes peer is not exact', async () => {
    await kube().create({
      apiVersion: CNP,
      kind: 'ClusterNetworkPolicy',
      metadata: { name: policy },
      spec: { tier: 'Admin', priority: 3, subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': ns } } }, egress: [{ name: 'no-zone-a', action: 'Deny', to: [{ nodes: { matchLabels: { [key]: 'a' } } }] }] },
    });
    const exact = await waitForCondition(policy, 'Exact', (c) => c.status === 'False' && c.message.includes('enable-node-selector-labels is off'));
    expect(exact.find((c) => c.type === 'Programmed')?.message).toContain('enable-node-selector-labels false');
    const written = await specs();
    expect(written).not.toContain('toNodes');
    // Failing closed: the Deny covers every node.
    expect(written).toContain('remote-node');
  });

  it('writes toNodes once the agents have node selector labels and node identities that carry the cluster label (the release from the DaemonSet image)', async () => {
    // 1.18 with policy-default-local-cluster: node identities lack the cluster label, toNodes would match nothing.
    await agentImage('quay.io/cilium/cilium:v1.18.6');
    await config({ 'enable-node-selector-labels': 'true', 'policy-default-local-cluster': 'true' });
    await waitForCondition(policy, 'Programmed', (c) => c.message.includes('version 1.18') && c.message.includes('enable-node-selector-labels true'));
    expect(await specs()).not.toContain('toNodes');
    await agentImage('quay.io/cilium/cilium:v1.19.3@sha256:0123456789abcdef');
    await waitFor(async () => (await specs()).includes('toNodes'), { message: 'toNodes once the agents run 1.19' });
    await waitForCondition(policy, 'Exact', (c) => c.status === 'False' && c.message.includes("pod's own node"));
  });

  it('names the nodes by address where CIDRs reach nodes: exact', async () => {
    await config({ 'enable-node-selector-labels': 'true', 'policy-cidr-match-mode': 'nodes' });
    await waitFor(async () => (await specs()).includes('192.0.2.120/32'), { message: "node a's address as a CIDR" });
    const written = await specs();
    expect(written).not.toContain('192.0.2.121');
    expect(written).not.toContain('toNodes');
    await waitForCondition(policy, 'Exact', (c) => c.status === 'True');
  });
});
