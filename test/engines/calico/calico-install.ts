import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseObjects, type KubeObject } from '../../harness/client.js';
import type { CalicoVersion } from './builds.js';

// What a Calico installation puts in the cluster before Felix runs, for one version: the CRDs of
// that release (manifests/crds.yaml, the crd.projectcalico.org/v1 "no API server" form), the
// Tiers calico-node creates at start, and ClusterInformation (Felix waits for datastoreReady).

const CALICO_GROUP = 'crd.projectcalico.org/v1';

/**
 * The release's CRDs, minus its ClusterNetworkPolicy CRD (3.32 ships the v0.2.0 standard
 * channel): the lab installs this project's CRD instead, as a cluster using the operator would.
 */
export function calicoCrds(sourceTree: string): KubeObject[] {
  const docs = parseObjects(readFileSync(join(sourceTree, 'manifests', 'crds.yaml'), 'utf8'));
  return docs.filter((d) => d.kind === 'CustomResourceDefinition' && d.metadata.name !== 'clusternetworkpolicies.policy.networking.k8s.io');
}

interface TierSpec {
  readonly name: string;
  readonly order: number;
  readonly defaultAction: 'Deny' | 'Pass';
}

/**
 * calico-node's start-up tiers (libcalico-go `EnsureInitialized`). Without `default`, Felix
 * orders Kubernetes NetworkPolicies after every other tier, Baseline included.
 */
export function startupTiers(version: CalicoVersion): TierSpec[] {
  const admin = version === '3.31.7' ? ['adminnetworkpolicy', 'baselineadminnetworkpolicy'] : ['kube-admin', 'kube-baseline'];
  return [
    { name: 'default', order: 1_000_000, defaultAction: 'Deny' },
    { name: admin[0]!, order: 1_000, defaultAction: 'Pass' },
    { name: admin[1]!, order: 10_000_000, defaultAction: 'Pass' },
  ];
}

export function calicoStartupObjects(version: CalicoVersion): KubeObject[] {
  return [
    {
      apiVersion: CALICO_GROUP,
      kind: 'ClusterInformation',
      metadata: { name: 'default' },
      spec: { calicoVersion: `v${version}`, datastoreReady: true, clusterGUID: 'c0ffee00c0ffee00c0ffee00c0ffee00', clusterType: 'k8s,kdd' },
    },
    ...startupTiers(version).map((t) => ({ apiVersion: CALICO_GROUP, kind: 'Tier', metadata: { name: t.name }, spec: { order: t.order, defaultAction: t.defaultAction } })),
  ];
}
