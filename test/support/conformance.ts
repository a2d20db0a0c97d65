import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocuments } from '../../src/api/documents.js';
import type { Namespace, Node, Pod, Protocol, Snapshot } from '../../src/api/model.js';
import { loadSnapshot } from '../../src/api/snapshot.js';
import type { Flow } from '../../src/semantics/flow.js';
import { CONFORMANCE } from './paths.js';

// Builds the upstream conformance suite (cases.json + states/) into snapshots
// and flows: the suite's topology, with pod and node addresses assigned here the
// way a kind cluster of one control-plane node and two workers would have them.

export type Family = 4 | 6;

export interface Probe {
  readonly flow: Flow;
  readonly expect: 'allow' | 'deny';
  readonly description: string;
}

export interface ConformanceStep {
  readonly step: number;
  readonly stateFile: string;
  readonly snapshot: Snapshot;
  readonly probes: readonly Probe[];
}

export interface ConformanceCase {
  readonly name: string;
  readonly steps: readonly ConformanceStep[];
}

interface RawProbe {
  step: number;
  subtest: string;
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  expect: 'allow' | 'deny';
}
interface RawMutation {
  kind: string;
  namespace?: string;
  name?: string;
  labels?: Record<string, string>;
  key?: string;
  value?: string;
}
interface RawCase {
  name: string;
  steps: { step: number; mutationsBefore: RawMutation[]; stateFile: string }[];
  probes: RawProbe[];
}
interface RawTopology {
  namespaces: { name: string; labels: Record<string, string> }[];
  pods: {
    namespace: string;
    name: string;
    labels: Record<string, string>;
    hostNetwork: boolean;
    containers: { ports?: { containerPort: number; protocol: Protocol; name?: string }[] }[];
  }[];
  hostNetworkPorts: { default: number[] };
}

export const NODE_NAMES = ['kind-control-plane', 'kind-worker', 'kind-worker2'] as const;

function nodeIp(i: number, family: Family): string {
  return family === 4 ? `172.18.0.${i + 2}` : `fc00:f853:ccd:e793::${i + 2}`;
}

function podIp(nsIndex: number, podIndex: number, family: Family): string {
  return family === 4 ? `10.244.${nsIndex + 1}.${podIndex + 10}` : `fd00:10:244:${nsIndex + 1}::${(podIndex + 10).toString(16)}`;
}

export function conformanceNodes(family: Family): Node[] {
  return NODE_NAMES.map((name, i) => ({
    name,
    labels: {
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': name,
      'kubernetes.io/arch': 'amd64',
      ...(i === 0 ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
    },
    addresses: [nodeIp(i, family)],
  }));
}

function topologyPods(topology: RawTopology, family: Family): Pod[] {
  const nsIndex = new Map(topology.namespaces.map((n, i) => [n.name, i]));
  return topology.pods.map((p, i) => {
    const ordinal = Number(p.name.slice(p.name.lastIndexOf('-') + 1));
    // Statefulset pods spread over the two workers; ordinal 0 on kind-worker.
    const node = 1 + (ordinal % 2);
    const sts = p.name.slice(0, p.name.lastIndexOf('-'));
    const labels = {
      ...p.labels,
      'statefulset.kubernetes.io/pod-name': p.name,
      'apps.kubernetes.io/pod-index': String(ordinal),
      'controller-revision-hash': `${sts}-5d4b8c7f9`,
    };
    const ports = p.containers.flatMap((c) => (c.ports ?? []).map((cp) => ({ name: cp.name, port: cp.containerPort, protocol: cp.protocol })));
    const ips = p.hostNetwork ? [nodeIp(node, family)] : [podIp(nsIndex.get(p.namespace) ?? 0, i, family)];
    return { namespace: p.namespace, name: p.name, labels, hostNetwork: p.hostNetwork, nodeName: NODE_NAMES[node], ips, ports };
  });
}

function withCentaurPorts(pods: Pod[], topology: RawTopology): Pod[] {
  // The host-network pods declare their listening ports as container ports (web-34345, …).
  const hp = topology.hostNetworkPorts.default;
  const declared = [
    { name: 'web-34345', port: hp[0]!, protocol: 'TCP' as const },
    { name: 'web-34346', port: hp[1]!, protocol: 'TCP' as const },
    { name: 'dns-34347', port: hp[2]!, protocol: 'UDP' as const },
    { name: 'dns-34349', port: hp[4]!, protocol: 'UDP' as const },
  ];
  return pods.map((p) => (p.hostNetwork && p.ports.length === 0 ? { ...p, ports: declared } : p));
}

function resolvePlaceholders(text: string, pods: readonly Pod[], family: Family): string {
  return text.replace(/\{\{podIP ([a-z0-9.-]+)\/([a-z0-9.-]+)\}\}\/32\|128/g, (_m, ns: string, name: string) => {
    const pod = pods.find((p) => p.namespace === ns && p.name === name);
    if (pod === undefined || pod.ips[0] === undefined) throw new Error(`conformance placeholder names unknown pod ${ns}/${name}`);
    return `${pod.ips[0]}/${family === 4 ? 32 : 128}`;
  });
}

function endpoint(ref: string): Flow['from'] {
  const [namespace, name] = ref.split('/');
  if (namespace === undefined || name === undefined) throw new Error(`bad pod reference ${ref}`);
  return { kind: 'pod', namespace, name };
}

/**
 * Label mutations change the cluster, not the state files: namespace labels are replaced whole
 * (the API server keeps kubernetes.io/metadata.name), pod labels one key at a time. Policy
 * patches and deletions are already applied in each step's state file.
 */
function applyMutation(m: RawMutation, nsLabels: Map<string, Record<string, string>>, pods: Pod[]): Pod[] {
  switch (m.kind) {
    case 'setNamespaceLabels':
      nsLabels.set(m.namespace!, { ...m.labels, 'kubernetes.io/metadata.name': m.namespace! });
      return pods;
    case 'setPodLabel':
    case 'removePodLabel': {
      if (!pods.some((p) => p.namespace === m.namespace && p.name === m.name)) throw new Error(`conformance mutation names unknown pod ${m.namespace}/${m.name}`);
      return pods.map((p) => {
        if (p.namespace !== m.namespace || p.name !== m.name) return p;
        const labels = { ...p.labels };
        if (m.kind === 'setPodLabel') labels[m.key!] = m.value!;
        else delete labels[m.key!];
        return { ...p, labels };
      });
    }
    case 'patchClusterNetworkPolicy':
    case 'deleteNetworkPolicy':
      return pods;
    default:
      throw new Error(`conformance digest has a mutation this loader does not know: ${m.kind}`);
  }
}

let cached: Map<Family, ConformanceCase[]> | undefined;

/**
 * Every case of the v0.3.0 digest as snapshots and probes. Namespace and pod label mutations
 * accumulate over a case's steps, as they do on the cluster the suite runs on (a subtest's
 * clean-up comes as a mutation before the next step).
 */
export function loadConformance(family: Family = 4): ConformanceCase[] {
  cached ??= new Map();
  const hit = cached.get(family);
  if (hit !== undefined) return hit;
  const data = JSON.parse(readFileSync(join(CONFORMANCE, 'cases.json'), 'utf8')) as {
    topology: RawTopology;
    cases: RawCase[];
  };
  const basePods = withCentaurPorts(topologyPods(data.topology, family), data.topology);
  const nodes = conformanceNodes(family);
  const result: ConformanceCase[] = [];
  for (const raw of data.cases) {
    const labels = new Map(data.topology.namespaces.map((n) => [n.name, { ...n.labels }]));
    let pods = basePods;
    const steps: ConformanceStep[] = [];
    for (const step of raw.steps) {
      for (const m of step.mutationsBefore) pods = applyMutation(m, labels, pods);
      const text = resolvePlaceholders(readFileSync(join(CONFORMANCE, step.stateFile), 'utf8'), pods, family);
      const loaded = loadSnapshot(parseDocuments(text, step.stateFile));
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) throw new Error(`${step.stateFile}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
      const namespaces: Namespace[] = [...labels.entries()].map(([name, l]) => ({ name, labels: l }));
      const snapshot: Snapshot = { ...loaded.snapshot, namespaces, pods, nodes };
      const probes = raw.probes
        .filter((p) => p.step === step.step)
        .map((p) => ({
          flow: { from: endpoint(p.from), to: endpoint(p.to), port: p.port, protocol: p.protocol },
          expect: p.expect,
          description: `${raw.name} step ${step.step} "${p.subtest}": ${p.from} -> ${p.to} ${p.protocol}/${p.port}`,
        }));
      steps.push({ step: step.step, stateFile: step.stateFile, snapshot, probes });
    }
    result.push({ name: raw.name, steps });
  }
  cached.set(family, result);
  return result;
}

/** The snapshot's namespaces, pods and nodes as Kubernetes objects, for feeding the CLI. */
export function clusterObjects(snapshot: Snapshot): object[] {
  return [
    ...snapshot.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
    ...snapshot.nodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: n.labels },
      status: { addresses: n.addresses.map((address) => ({ type: 'InternalIP', address })) },
    })),
    ...snapshot.pods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
      spec: {
        nodeName: p.nodeName,
        hostNetwork: p.hostNetwork,
        containers: [{ name: 'main', ports: p.ports.map((cp) => ({ name: cp.name, containerPort: cp.port, protocol: cp.protocol })) }],
      },
      status: { podIP: p.ips[0], podIPs: p.ips.map((ip) => ({ ip })) },
    })),
  ];
}

/** The state file of a step with its placeholders resolved, as the CLI would read it. */
export function stateText(step: ConformanceStep, family: Family = 4): string {
  return resolvePlaceholders(readFileSync(join(CONFORMANCE, step.stateFile), 'utf8'), step.snapshot.pods, family);
}
