// `cnp-operator diff` benchmark (not part of the tests): the impact of one proposed
// ClusterNetworkPolicy on a cluster of 5,000 pods in 500 namespaces with 200 CNPs and 1,000
// NetworkPolicies. Prints the time and memory of the computation itself, then of the whole
// command on the same objects written to files (YAML parsing and node's start included).
// Run: npx tsx bench/diff.ts [--pods 5000] [--namespaces 500] [--cnps 200] [--nps 1000] [--wide] [--no-cli]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { parseCidr } from '../src/api/ip.js';
import type { Namespace, NetworkPolicy, NetworkPolicyRule, Node, Peer, Pod, Policy, PortMatch, Rule, Selector, Snapshot } from '../src/api/model.js';
import { applyChanges } from '../src/semantics/impact-changes.js';
import { computeImpact } from '../src/semantics/impact.js';
import { describeGroup, groupChanges, reportContext, summaryLine } from '../src/semantics/impact-report.js';

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EMPTY: Selector = { requirements: [] };
const sel = (labels: Record<string, string>): Selector => ({
  requirements: Object.keys(labels)
    .sort()
    .map((key) => ({ key, operator: 'In' as const, values: [labels[key]!] })),
});
const exists = (key: string): Selector => ({ requirements: [{ key, operator: 'Exists', values: [] }] });
const cidr = (text: string) => parseCidr(text)!.cidr;

// Small vocabularies, as real clusters have them: a few teams and environments, the same handful
// of workload names in every namespace, a few well-known ports.
const TEAMS = ['payments', 'search', 'identity', 'ads', 'data', 'infra', 'mobile', 'web'];
const ENVS = ['prod', 'staging', 'dev'];
const APPS = [
  { app: 'web', tier: 'frontend', ports: [{ name: 'http', port: 8080 }] },
  { app: 'api', tier: 'backend', ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9000 }] },
  { app: 'worker', tier: 'backend', ports: [{ name: 'metrics', port: 9090 }] },
  { app: 'db', tier: 'data', ports: [{ name: 'postgres', port: 5432 }] },
  { app: 'cache', tier: 'data', ports: [{ name: 'redis', port: 6379 }] },
];
const PORTS = [80, 443, 5432, 6379, 8080, 9000, 9090];

export interface Workload {
  readonly cluster: Snapshot;
  /** The proposed change: one new Admin CNP. */
  readonly proposed: Policy;
}

export function workload(podCount: number, namespaceCount: number, cnpCount: number, npCount: number): Workload {
  const r = random(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nodes: Node[] = Array.from({ length: 50 }, (_, n) => ({
    name: `node-${n}`,
    labels: { 'kubernetes.io/hostname': `node-${n}`, 'topology.kubernetes.io/zone': `zone-${n % 3}`, ...(n < 3 ? { 'node-role.kubernetes.io/control-plane': '' } : {}) },
    addresses: [`172.18.${n >> 8}.${(n & 255) + 2}`],
  }));
  const namespaces: Namespace[] = Array.from({ length: namespaceCount }, (_, i) => {
    const name = i === 0 ? 'kube-system' : i === 1 ? 'monitoring' : `${TEAMS[i % TEAMS.length]}-${ENVS[i % ENVS.length]}-${i}`;
    const labels: Record<string, string> = { 'kubernetes.io/metadata.name': name };
    if (i > 1) {
      labels['team'] = TEAMS[i % TEAMS.length]!;
      labels['env'] = ENVS[i % ENVS.length]!;
      if (i % 4 === 0) labels['tenant'] = labels['team'];
    }
    return { name, labels };
  });
  // Deployments of 2-4 replicas until the pod count is reached; a node-exporter on the host network.
  const pods: Pod[] = [];
  let ip = 0;
  const podIp = () => {
    ip++;
    return `10.${64 + (ip >> 16)}.${(ip >> 8) & 255}.${ip & 255}`;
  };
  for (let n = 0; n < nodes.length && pods.length < podCount; n++) {
    pods.push({ namespace: 'monitoring', name: `node-exporter-${n}`, labels: { app: 'node-exporter' }, hostNetwork: true, nodeName: nodes[n]!.name, ips: [nodes[n]!.addresses[0]!], ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }] });
  }
  for (let k = 0; k < 2 && pods.length < podCount; k++) {
    pods.push({ namespace: 'kube-system', name: `coredns-${k}`, labels: { 'k8s-app': 'kube-dns' }, hostNetwork: false, nodeName: 'node-0', ips: [podIp()], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
  }
  pods.push({ namespace: 'monitoring', name: 'prometheus-0', labels: { app: 'prometheus' }, hostNetwork: false, nodeName: 'node-1', ips: [podIp()], ports: [{ name: 'web', port: 9090, protocol: 'TCP' }] });
  let d = 0;
  while (pods.length < podCount) {
    const ns = namespaces[2 + (d % (namespaceCount - 2))]!;
    const app = APPS[Math.floor(d / (namespaceCount - 2)) % APPS.length]!;
    const hash = Math.floor(r() * 0xffffff).toString(16);
    const replicas = 2 + Math.floor(r() * 3);
    for (let k = 0; k < replicas && pods.length < podCount; k++) {
      pods.push({
        namespace: ns.name,
        name: `${app.app}-${hash}-${k}`,
        labels: { app: app.app, tier: app.tier, 'pod-template-hash': hash, ...(r() < 0.1 ? { canary: 'true' } : {}) },
        hostNetwork: false,
        nodeName: pick(nodes).name,
        ips: [podIp()],
        ports: app.ports.map((p) => ({ ...p, protocol: 'TCP' as const })),
      });
    }
    d++;
  }

  const nsPeer = (): Selector => {
    const x = r();
    if (x < 0.4) return sel({ team: pick(TEAMS) });
    if (x < 0.6) return sel({ env: pick(ENVS) });
    if (x < 0.75) return exists('tenant');
    if (x < 0.85) return sel({ team: pick(TEAMS), env: pick(ENVS) });
    return EMPTY;
  };
  const ports = (): PortMatch[] | undefined => {
    const x = r();
    if (x < 0.3) return undefined;
    if (x < 0.75) return [{ kind: 'range', protocol: 'TCP', start: pick(PORTS), end: 0 }].map((p) => ({ ...p, end: p.start }) as PortMatch);
    if (x < 0.85) return [{ kind: 'range', protocol: 'TCP', start: 8000, end: 8999 }];
    return [{ kind: 'named', name: pick(['http', 'metrics', 'grpc']) }];
  };
  const rule = (index: number, ingress: boolean): Rule => {
    const action = pick(['Accept', 'Accept', 'Deny', 'Pass'] as const);
    const x = r();
    const peers: Peer[] =
      ingress || x < 0.7
        ? [{ kind: 'pods', pods: { namespaces: nsPeer(), pods: r() < 0.5 ? sel({ app: pick(APPS).app }) : EMPTY } }]
        : x < 0.9
          ? [{ kind: 'networks', cidrs: [cidr(pick(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/25', '10.0.0.0/8', '0.0.0.0/0']))] }]
          : [{ kind: 'nodes', nodes: exists('node-role.kubernetes.io/control-plane') }];
    // The CRD refuses named ports beside networks and nodes peers.
    const p = ports();
    const named = p?.some((m) => m.kind === 'named') ?? false;
    return { index, name: `rule-${index}`, action, peers, ports: named && peers.some((x) => x.kind !== 'pods') ? undefined : p };
  };
  const policies: Policy[] = Array.from({ length: cnpCount }, (_, p) => {
    const ingress = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => rule(i, true));
    const egress = r() < 0.5 ? Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => rule(i, false)) : [];
    return {
      name: `cnp-${String(p).padStart(3, '0')}`,
      uid: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`,
      generation: 1,
      tier: p % 4 === 0 ? 'Baseline' : 'Admin',
      priority: 10 + (p % 90),
      subject: { namespaces: nsPeer(), pods: r() < 0.4 ? sel({ app: pick(APPS).app }) : EMPTY },
      ingress,
      egress,
    };
  });

  // Two NetworkPolicies per namespace, in the shapes teams write: a default deny, allow from the
  // frontend to the backend, allow from the same namespace, allow scrapes from monitoring.
  const networkPolicies: NetworkPolicy[] = [];
  const teamNamespaces = namespaces.slice(2);
  for (let i = 0; networkPolicies.length < npCount; i++) {
    const ns = teamNamespaces[i % teamNamespaces.length]!.name;
    const kind = Math.floor(i / teamNamespaces.length) % 4;
    const named = (name: string, podSelector: Selector, types: ('ingress' | 'egress')[], ingress: NetworkPolicyRule[], egress: NetworkPolicyRule[] = []) =>
      networkPolicies.push({ namespace: ns, name, podSelector, policyTypes: types, ingress, egress });
    if (kind === 0) named('default-deny', EMPTY, ['ingress'], []);
    else if (kind === 1) named('api-from-web', sel({ app: 'api' }), ['ingress'], [{ peers: [{ kind: 'pods', namespaces: undefined, pods: sel({ app: 'web' }) }], ports: [{ protocol: 'TCP', port: 'http', endPort: undefined }] }]);
    else if (kind === 2) named('same-namespace', EMPTY, ['ingress'], [{ peers: [{ kind: 'pods', namespaces: undefined, pods: EMPTY }], ports: undefined }]);
    else named('from-monitoring', EMPTY, ['ingress'], [{ peers: [{ kind: 'pods', namespaces: sel({ 'kubernetes.io/metadata.name': 'monitoring' }), pods: sel({ app: 'prometheus' }) }], ports: [{ protocol: 'TCP', port: 9090, endPort: undefined }] }]);
  }

  // The change under review: production databases accept only their own team's API pods.
  const proposed: Policy = {
    name: 'protect-prod-databases',
    uid: undefined,
    generation: undefined,
    tier: 'Admin',
    priority: 5,
    subject: { namespaces: sel({ env: 'prod' }), pods: sel({ app: 'db' }) },
    ingress: [
      { index: 0, name: 'from-prod-api', action: 'Accept', peers: [{ kind: 'pods', pods: { namespaces: sel({ env: 'prod' }), pods: sel({ app: 'api' }) } }], ports: [{ kind: 'named', name: 'postgres' }] },
      { index: 1, name: 'deny-everything-else', action: 'Deny', peers: [{ kind: 'pods', pods: { namespaces: EMPTY, pods: EMPTY } }], ports: undefined },
    ],
    egress: [],
  };
  return { cluster: { policies, networkPolicies, namespaces, pods, nodes }, proposed };
}

/** A change that touches every pod: tenants may no longer reach anyone's 8000-8999/TCP. */
export const WIDE: Policy = {
  name: 'fence-tenants',
  uid: undefined,
  generation: undefined,
  tier: 'Admin',
  priority: 1,
  subject: { namespaces: EMPTY, pods: EMPTY },
  ingress: [{ index: 0, name: 'no-tenant-http', action: 'Deny', peers: [{ kind: 'pods', pods: { namespaces: exists('tenant'), pods: EMPTY } }], ports: [{ kind: 'range', protocol: 'TCP', start: 8000, end: 8999 }] }],
  egress: [],
};

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

// ---- the same objects as Kubernetes YAML, for the command ----

const selectorObject = (s: Selector) => {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: object[] = [];
  for (const q of s.requirements) {
    if (q.operator === 'In' && q.values.length === 1) matchLabels[q.key] = q.values[0]!;
    else matchExpressions.push({ key: q.key, operator: q.operator, ...(q.values.length > 0 ? { values: q.values } : {}) });
  }
  return { ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}), ...(matchExpressions.length > 0 ? { matchExpressions } : {}) };
};

export function cnpObject(p: Policy): object {
  const peer = (x: Peer) => {
    if (x.kind === 'pods') return { pods: { namespaceSelector: selectorObject(x.pods.namespaces), podSelector: selectorObject(x.pods.pods) } };
    if (x.kind === 'networks') return { networks: x.cidrs.map((c) => c.text) };
    if (x.kind === 'nodes') return { nodes: selectorObject(x.nodes) };
    throw new Error(`bench: no YAML for ${x.kind} peers`);
  };
  const protocols = (ports: readonly PortMatch[] | undefined) =>
    ports === undefined
      ? {}
      : {
          protocols: ports.map((m) =>
            m.kind === 'named' ? { destinationNamedPort: m.name } : { [m.protocol.toLowerCase()]: { destinationPort: m.start === m.end ? { number: m.start } : { range: { start: m.start, end: m.end } } } },
          ),
        };
  const rules = (list: readonly Rule[], key: 'from' | 'to') => list.map((x) => ({ name: x.name, action: x.action, [key]: x.peers.map(peer), ...protocols(x.ports) }));
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: p.name },
    spec: {
      tier: p.tier,
      priority: p.priority,
      subject: { pods: { namespaceSelector: selectorObject(p.subject.namespaces), podSelector: selectorObject(p.subject.pods) } },
      ...(p.ingress.length > 0 ? { ingress: rules(p.ingress, 'from') } : {}),
      ...(p.egress.length > 0 ? { egress: rules(p.egress, 'to') } : {}),
    },
  };
}

export function clusterObjects(s: Snapshot): object[] {
  return [
    ...s.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
    ...s.nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels }, status: { addresses: n.addresses.map((address) => ({ type: 'InternalIP', address })) } })),
    ...s.pods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
      spec: { nodeName: p.nodeName, hostNetwork: p.hostNetwork, containers: [{ name: 'main', image: 'example', ports: p.ports.map((c) => ({ name: c.name, containerPort: c.port, protocol: c.protocol })) }] },
      status: { podIP: p.ips[0], podIPs: p.ips.map((ip) => ({ ip })) },
    })),
    ...s.networkPolicies.map((np) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: np.name, namespace: np.namespace },
      spec: {
        podSelector: selectorObject(np.podSelector),
        policyTypes: np.policyTypes.map((t) => (t === 'ingress' ? 'Ingress' : 'Egress')),
        ingress: np.ingress.map((x) => ({
          ...(x.peers === undefined ? {} : { from: x.peers.map((p) => (p.kind === 'ipBlock' ? { ipBlock: { cidr: p.cidr.text } } : { ...(p.namespaces === undefined ? {} : { namespaceSelector: selectorObject(p.namespaces) }), podSelector: selectorObject(p.pods) })) }),
          ...(x.ports === undefined ? {} : { ports: x.ports.map((p) => ({ protocol: p.protocol, port: p.port })) }),
        })),
      },
    })),
    ...s.policies.map(cnpObject),
  ];
}

function main(): void {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const generated = workload(arg('pods', 5000), arg('namespaces', 500), arg('cnps', 200), arg('nps', 1000));
  // --wide: the worst case, a change to every pod's ingress.
  const w = process.argv.includes('--wide') ? { ...generated, proposed: WIDE } : generated;
  const c = w.cluster;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
  console.log(`cluster: ${c.pods.length} pods (${c.pods.filter((p) => p.hostNetwork).length} on the host network) in ${c.namespaces.length} namespaces, ${c.nodes.length} nodes, ${c.policies.length} CNPs (${c.policies.reduce((n, p) => n + p.ingress.length + p.egress.length, 0)} rules), ${c.networkPolicies.length} NetworkPolicies`);
  console.log(`change: ${w.proposed.tier} ClusterNetworkPolicy ${w.proposed.name} added`);

  const runs: number[] = [];
  const cpu: number[] = [];
  let last;
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { after, changes } = applyChanges(c, { policies: [w.proposed], networkPolicies: [], deletePolicies: [], deleteNetworkPolicies: [] });
    const impact = computeImpact(c, after);
    const groups = groupChanges(impact);
    const ctx = reportContext(c.pods);
    const lines = groups.map((g) => `${g.change === 'denied' ? '-' : '+'} ${describeGroup(g, ctx)}`);
    runs.push(performance.now() - t0);
    const c1 = process.cpuUsage(c0);
    cpu.push((c1.user + c1.system) / 1000);
    last = { impact, groups, lines, summary: summaryLine(groups, impact, changes) };
  }
  const heapAfter = process.memoryUsage().heapUsed;
  const s = last!.impact.stats;
  // CPU time says more than wall time on a shared machine (the process also waits for a core).
  console.log(`impact (computed in-process, 3 runs): ${runs.map((t, i) => `${(t / 1000).toFixed(2)} s (CPU ${(cpu[i]! / 1000).toFixed(2)} s)`).join(', ')}`);
  console.log(`  ${s.classes} pod classes for ${s.pods} pods, ${s.atoms} atoms; ${s.candidatePairs} class pairs examined, ${s.evaluations} evaluator calls`);
  console.log(`  ${last!.groups.length} groups; ${last!.summary}`);
  for (const line of last!.lines.slice(0, 3)) console.log(`  ${line}`);
  console.log(`  heap in use after: ${mib(heapAfter)} (before: ${mib(heapBefore)}); peak resident: ${mib(process.resourceUsage().maxRSS * 1024)}`);

  if (process.argv.includes('--no-cli')) return;
  const dir = mkdtempSync(join(tmpdir(), 'cnp-diff-bench-'));
  try {
    const clusterFile = join(dir, 'cluster.yaml');
    const changeFile = join(dir, 'change.yaml');
    writeFileSync(clusterFile, clusterObjects(c).map((o) => stringify(o)).join('---\n'));
    writeFileSync(changeFile, stringify(cnpObject(w.proposed)));
    const cli = join(import.meta.dirname, '..', 'bin', 'cnp-operator');
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const run = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, cli, 'diff', '-f', changeFile, '--cluster', clusterFile, '-o', 'json'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
      const seconds = (performance.now() - t0) / 1000;
      const [maxRssKb, user, system] = (run.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      if (run.status !== 0 && run.status !== 1) throw new Error(`diff exited ${run.status}: ${run.stderr}`);
      const out = JSON.parse(run.stdout) as { summary: { changes: number } };
      const cpuText = user === undefined || system === undefined ? '?' : `${(user + system).toFixed(2)} s`;
      console.log(`command (bin/cnp-operator diff on files, exit ${run.status}): ${seconds.toFixed(2)} s (CPU ${cpuText}), peak resident ${maxRssKb === undefined ? '?' : mib(maxRssKb * 1024)}, ${out.summary.changes} groups`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
