import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocuments } from '../../src/api/documents.js';
import type { Namespace, Node, Pod, Protocol, Snapshot } from '../../src/api/model.js';
import { loadSnapshot } from '../../src/api/snapshot.js';
import { Evaluator } from '../../src/semantics/evaluate.js';
import type { Flow } from '../../src/semantics/flow.js';
import { UPSTREAM, upstreamModule } from './paths.js';

// The AdminNetworkPolicy conformance suite of network-policy-api v0.1.1, ready to replay through
// `convert`: the digest (upstream/anp-conformance-v0.1.1/cases.json, transcribed from the suite's Go
// tests) says which probes run after which mutations; the objects are the module's own manifests
// (fetched through the Go module proxy, never copied here), with the mutations applied to the
// v1alpha1 objects as the tests apply them, before conversion.

export const ANP_CONFORMANCE = join(UPSTREAM, 'anp-conformance-v0.1.1');
export const ANP_SUITE_VERSION = 'v0.1.1';

/** The network-policy-api v0.1.1 module's folder (CRDs, apis/v1alpha1, conformance/{base,tests}). */
export const anpModule = (): string => upstreamModule('network-policy-api', ANP_SUITE_VERSION);

export type Family = 4 | 6;

interface DigestOp {
  op: 'swapRules' | 'setAction' | 'setPriority';
  direction?: 'ingress' | 'egress';
  indices?: [number, number];
  index?: number;
  action?: string;
  priority?: number;
}

export interface DigestMutation {
  kind: 'updateAdminNetworkPolicy' | 'updateBaselineAdminNetworkPolicy' | 'deleteNetworkPolicy';
  policy?: string;
  namespace?: string;
  name?: string;
  subtest: string;
  ops?: DigestOp[];
  goLine: number;
}

export interface DigestProbe {
  step: number;
  subtest: string;
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  expect: 'allow' | 'deny';
  goLine: number;
}

export interface DigestCase {
  name: string;
  goFile: string;
  features: string[];
  manifests: string[];
  subtests: string[];
  steps: { step: number; mutationsBefore: DigestMutation[] }[];
  probes: DigestProbe[];
}

export interface AnpDigest {
  module: string;
  counts: { cases: number; probes: number; steps: number; probesByExpect: { allow: number; deny: number } };
  cases: DigestCase[];
}

export function readAnpDigest(): AnpDigest {
  return JSON.parse(readFileSync(join(ANP_CONFORMANCE, 'cases.json'), 'utf8')) as AnpDigest;
}

export interface AnpProbe {
  readonly flow: Flow;
  readonly expect: 'allow' | 'deny';
  readonly description: string;
}

export interface AnpStep {
  readonly step: number;
  /** The AdminNetworkPolicies and the BaselineAdminNetworkPolicy in force, as the API holds them. */
  readonly policies: readonly Record<string, unknown>[];
  /** The other objects of the test's manifests in force (NetworkPolicies). */
  readonly others: readonly Record<string, unknown>[];
  readonly probes: readonly AnpProbe[];
}

export interface AnpCase {
  readonly name: string;
  readonly steps: readonly AnpStep[];
}

export interface Topology {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
}

type Obj = Record<string, unknown>;

const NODE_NAMES = ['kind-control-plane', 'kind-worker', 'kind-worker2'];

function nodeIp(i: number, family: Family): string {
  return family === 4 ? `172.18.0.${i + 2}` : `fc00:f853:ccd:e793::${i + 2}`;
}

function podIp(nsIndex: number, podIndex: number, family: Family): string {
  return family === 4 ? `10.244.${nsIndex + 1}.${podIndex + 10}` : `fd00:10:244:${nsIndex + 1}::${(podIndex + 10).toString(16)}`;
}

function manifestObjects(relative: string): Obj[] {
  const path = join(anpModule(), 'conformance', relative);
  return parseDocuments(readFileSync(path, 'utf8'), path).map((d) => d.value as Obj);
}

/**
 * The suite's cluster from conformance/base/manifests.yaml: its namespaces (with the label the API
 * server adds) and the pods of its StatefulSets (`<name>-0`, `<name>-1`, …, with the labels the
 * StatefulSet controller adds), spread over the two workers of a kind cluster.
 */
export function anpTopology(family: Family): Topology {
  const objects = manifestObjects('base/manifests.yaml');
  const namespaces: Namespace[] = objects
    .filter((o) => o['kind'] === 'Namespace')
    .map((o) => {
      const meta = o['metadata'] as { name: string; labels?: Record<string, string> };
      return { name: meta.name, labels: { ...meta.labels, 'kubernetes.io/metadata.name': meta.name } };
    });
  const nsIndex = new Map(namespaces.map((n, i) => [n.name, i]));
  const pods: Pod[] = [];
  for (const sts of objects.filter((o) => o['kind'] === 'StatefulSet')) {
    const meta = sts['metadata'] as { name: string; namespace: string };
    const spec = sts['spec'] as { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { hostNetwork?: boolean; containers: { ports?: { containerPort: number; protocol?: Protocol; name?: string }[] }[] } } };
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      const name = `${meta.name}-${ordinal}`;
      const node = 1 + (ordinal % 2);
      const hostNetwork = spec.template.spec.hostNetwork === true;
      pods.push({
        namespace: meta.namespace,
        name,
        labels: { ...spec.template.metadata.labels, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal) },
        hostNetwork,
        nodeName: NODE_NAMES[node],
        ips: [hostNetwork ? nodeIp(node, family) : podIp(nsIndex.get(meta.namespace) ?? 0, pods.length, family)],
        ports: spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' }))),
      });
    }
  }
  const nodes = NODE_NAMES.map((name, i) => ({ name, labels: { 'kubernetes.io/hostname': name }, addresses: [nodeIp(i, family)] }));
  return { namespaces, pods, nodes };
}

function isPolicy(o: Obj): boolean {
  return o['kind'] === 'AdminNetworkPolicy' || o['kind'] === 'BaselineAdminNetworkPolicy';
}

function named(o: Obj): { name: string; namespace?: string } {
  return o['metadata'] as { name: string; namespace?: string };
}

/** Applies one digest mutation to the objects in force, as the test's Update or Delete call does. */
export function applyMutation(objects: Obj[], m: DigestMutation): Obj[] {
  if (m.kind === 'deleteNetworkPolicy') {
    const rest = objects.filter((o) => !(o['kind'] === 'NetworkPolicy' && named(o).name === m.name && named(o).namespace === m.namespace));
    if (rest.length !== objects.length - 1) throw new Error(`mutation at line ${m.goLine} deletes an unknown NetworkPolicy ${m.namespace}/${m.name}`);
    return rest;
  }
  const kind = m.kind === 'updateAdminNetworkPolicy' ? 'AdminNetworkPolicy' : 'BaselineAdminNetworkPolicy';
  let found = false;
  const next = objects.map((o) => {
    if (o['kind'] !== kind || named(o).name !== m.policy) return o;
    found = true;
    const copy = structuredClone(o);
    const spec = copy['spec'] as Record<string, unknown>;
    for (const op of m.ops ?? []) {
      const rules = op.direction === undefined ? undefined : (spec[op.direction] as Obj[] | undefined);
      switch (op.op) {
        case 'swapRules': {
          const [a, b] = op.indices!;
          if (rules?.[a] === undefined || rules[b] === undefined) throw new Error(`mutation at line ${m.goLine} swaps rules ${a} and ${b} that ${m.policy} does not have`);
          [rules[a], rules[b]] = [rules[b]!, rules[a]!];
          break;
        }
        case 'setAction':
          if (rules?.[op.index!] === undefined) throw new Error(`mutation at line ${m.goLine} changes rule ${op.index} that ${m.policy} does not have`);
          rules[op.index!]!['action'] = op.action;
          break;
        case 'setPriority':
          spec['priority'] = op.priority;
          break;
      }
    }
    return copy;
  });
  if (!found) throw new Error(`mutation at line ${m.goLine} updates an unknown ${kind} ${m.policy}`);
  return next;
}

function endpoint(ref: string): Flow['from'] {
  const [namespace, name] = ref.split('/');
  if (namespace === undefined || name === undefined) throw new Error(`bad pod reference ${ref}`);
  return { kind: 'pod', namespace, name };
}

/** Every case of the digest with the v1alpha1 objects in force at each step (mutations accumulate). */
export function loadAnpConformance(): AnpCase[] {
  return readAnpDigest().cases.map((c) => {
    let objects = c.manifests.flatMap(manifestObjects);
    const steps = c.steps.map((s) => {
      for (const m of s.mutationsBefore) objects = applyMutation(objects, m);
      return {
        step: s.step,
        policies: objects.filter(isPolicy),
        others: objects.filter((o) => !isPolicy(o)),
        probes: c.probes
          .filter((p) => p.step === s.step)
          .map((p) => ({
            flow: { from: endpoint(p.from), to: endpoint(p.to), port: p.port, protocol: p.protocol },
            expect: p.expect,
            description: `${c.name} step ${s.step} "${p.subtest}" (${c.goFile}:${p.goLine}): ${p.from} -> ${p.to} ${p.protocol}/${p.port}`,
          })),
      };
    });
    return { name: c.name, steps };
  });
}

/**
 * Evaluates a step's probes over the converted ClusterNetworkPolicies, the step's other objects and
 * the suite's cluster; returns one line per probe whose verdict differs from upstream's expectation.
 */
export function replayStep(step: AnpStep, converted: readonly unknown[], topology: Topology): string[] {
  const docs = [...converted, ...step.others].map((value, i) => ({ source: { file: `step-${step.step}`, document: i + 1 }, value }));
  const loaded = loadSnapshot(docs);
  const problems = loaded.diagnostics.map((d) => `${d.object ?? '?'}: ${d.severity}: ${d.field}: ${d.message}`);
  if (problems.length > 0) return problems;
  const snapshot: Snapshot = { ...loaded.snapshot, namespaces: topology.namespaces, pods: topology.pods, nodes: topology.nodes };
  const evaluator = new Evaluator(snapshot);
  const failures: string[] = [];
  for (const probe of step.probes) {
    const result = evaluator.evaluate(probe.flow);
    if (result.verdict !== probe.expect) {
      failures.push(
        `${probe.description}: expected ${probe.expect}, got ${result.verdict}\n  egress: ${result.egress.trace.map((t) => t.reason).join(' | ')}\n  ingress: ${result.ingress.trace.map((t) => t.reason).join(' | ')}`,
      );
    }
  }
  return failures;
}
