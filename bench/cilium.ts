// Cilium translation benchmark (not part of the tests): compile time for 500 CNPs of 10 rules
// each on a 1,000-pod cluster, and generated rule counts there and on the conformance suite.
// Run: npx tsx bench/cilium.ts [--cnps 500]
import { pathToFileURL } from 'node:url';
import { parseCidr } from '../src/api/ip.js';
import type { Namespace, NetworkPolicy, Node, Peer, Pod, Policy, PortMatch, Rule, Snapshot } from '../src/api/model.js';
import { translateCilium } from '../src/translate/cilium/index.js';
import type { KubeObject, Translation } from '../src/translate/types.js';
import { loadConformance } from '../test/support/conformance.js';

const sel = (key: string, value: string) => ({ requirements: [{ key, operator: 'In' as const, values: [value] }] });
const cidr = (text: string) => parseCidr(text)!.cidr;

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

const TEAMS = 20;
const APPS = 12;

export function workload(policyCount: number, rulesPerPolicy: number): Snapshot {
  const r = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const namespaces: Namespace[] = Array.from({ length: 50 }, (_, i) => ({
    name: `ns-${i}`,
    labels: { 'kubernetes.io/metadata.name': `ns-${i}`, team: `t${i % TEAMS}`, env: i % 3 === 0 ? 'prod' : 'dev' },
  }));
  const nodes: Node[] = Array.from({ length: 20 }, (_, n) => ({ name: `node-${n}`, labels: { 'kubernetes.io/os': 'linux', zone: `z${n % 3}` }, addresses: [`172.18.0.${n + 2}`] }));
  const pods: Pod[] = Array.from({ length: 1000 }, (_, i) => ({
    namespace: `ns-${i % 50}`,
    name: `pod-${i}`,
    labels: { app: `a${i % APPS}`, tier: pick(['web', 'api', 'db']), 'pod-template-hash': `h${i}` },
    hostNetwork: false,
    nodeName: `node-${i % 20}`,
    ips: [`10.244.${i >> 8}.${i & 255}`],
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
    ],
  }));
  const rule = (index: number, ingress: boolean): Rule => {
    const action = pick(['Accept', 'Accept', 'Deny', 'Deny', 'Pass'] as const);
    const peers: Peer[] = [];
    // Ingress peers are pods only.
    const kind = ingress ? r() * 0.75 : r();
    if (kind < 0.55) peers.push({ kind: 'pods', pods: { namespaces: sel('team', `t${Math.floor(r() * TEAMS)}`), pods: r() < 0.5 ? sel('app', `a${Math.floor(r() * APPS)}`) : { requirements: [] } } });
    else if (kind < 0.75) peers.push({ kind: 'pods', pods: { namespaces: sel('env', pick(['prod', 'dev'])), pods: { requirements: [] } } });
    else if (kind < 0.9) peers.push({ kind: 'networks', cidrs: [cidr(pick(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/25', '0.0.0.0/0']))] });
    else peers.push({ kind: 'nodes', nodes: sel('kubernetes.io/os', 'linux') });
    const ports: PortMatch[] | undefined =
      r() < 0.3
        ? undefined
        : r() < 0.8
          ? [{ kind: 'range', protocol: pick(['TCP', 'TCP', 'UDP'] as const), start: pick([53, 80, 443, 5432, 8080]), end: 0 }].map((p) => ({ ...p, end: p.start }) as PortMatch)
          : [{ kind: 'named', name: 'http' }];
    return { index, name: `rule-${index}`, action, peers, ports };
  };
  const policies: Policy[] = Array.from({ length: policyCount }, (_, p) => {
    const half = Math.ceil(rulesPerPolicy / 2);
    const rules = Array.from({ length: rulesPerPolicy }, (_, i) => rule(i, i < half));
    return {
      name: `policy-${String(p).padStart(4, '0')}`,
      uid: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`,
      generation: 1,
      tier: p % 5 === 0 ? 'Baseline' : 'Admin',
      priority: p % 100,
      subject: { namespaces: sel('team', `t${p % TEAMS}`), pods: r() < 0.5 ? sel('app', `a${p % APPS}`) : { requirements: [] } },
      ingress: rules.slice(0, half).map((x, i) => ({ ...x, index: i })),
      egress: rules.slice(half).map((x, i) => ({ ...x, index: i })),
    };
  });
  const networkPolicies: NetworkPolicy[] = Array.from({ length: 30 }, (_, i) => ({
    namespace: `ns-${i}`,
    name: `np-${i}`,
    podSelector: sel('app', `a${i % APPS}`),
    policyTypes: i % 2 === 0 ? ['ingress'] : ['ingress', 'egress'],
    ingress: [{ peers: [{ kind: 'pods', namespaces: undefined, pods: { requirements: [] } }], ports: undefined }],
    egress: [],
  }));
  return { policies, networkPolicies, namespaces, pods, nodes };
}

const LISTS = ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const;

interface Counts {
  objects: number;
  specs: number;
  rules: number;
  bytes: number;
}

function counts(objects: readonly KubeObject[]): Counts {
  const specs = objects.flatMap((o) => (o as unknown as { specs: Record<string, unknown[] | undefined>[] }).specs);
  return {
    objects: objects.length,
    specs: specs.length,
    rules: specs.reduce((n, s) => n + LISTS.reduce((m, l) => m + (s[l]?.length ?? 0), 0), 0),
    bytes: JSON.stringify(objects).length,
  };
}

/** CNP rules that need an enforcing Cilium rule at all: Admin Accept/Deny, Baseline Deny (Pass and Baseline Accept need none). */
function enforcingRules(snapshot: Snapshot): number {
  return snapshot.policies.reduce((n, p) => n + [...p.ingress, ...p.egress].filter((r) => r.action === 'Deny' || (r.action === 'Accept' && p.tier === 'Admin')).length, 0);
}

function findingsByKind(t: Translation): string {
  const by = new Map<string, number>();
  for (const f of t.findings) by.set(f.kind, (by.get(f.kind) ?? 0) + 1);
  return [...by.entries()].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

function time(fn: () => void, runs: number): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

function main(): void {
  const arg = process.argv.indexOf('--cnps');
  const snapshot = workload(arg > 0 ? Number(process.argv[arg + 1]) : 500, 10);
  const cnpRules = snapshot.policies.reduce((n, p) => n + p.ingress.length + p.egress.length, 0);
  translateCilium(snapshot); // warm-up
  const t = time(() => translateCilium(snapshot), 5);
  const result = translateCilium(snapshot);
  const c = counts(result.objects);
  console.log(`benchmark: ${snapshot.policies.length} CNPs, ${cnpRules} rules (${enforcingRules(snapshot)} that need enforcing), ${snapshot.pods.length} pods, ${snapshot.networkPolicies.length} NetworkPolicies`);
  console.log(`  compile: median ${t.median.toFixed(0)} ms, best ${t.min.toFixed(0)} ms (target < 2000 ms)`);
  console.log(`  output: ${c.objects} CCNPs, ${c.specs} specs, ${c.rules} rules, ${(c.bytes / 1024).toFixed(0)} KiB`);
  console.log(`  findings: ${findingsByKind(result)}`);
  const pruned = translateCilium(snapshot, { pruneAbsentNamespaces: true });
  const pt = time(() => translateCilium(snapshot, { pruneAbsentNamespaces: true }), 3);
  const pc = counts(pruned.objects);
  console.log(`  with pruneAbsentNamespaces: ${pc.rules} rules, ${pc.specs} specs, ${(pc.bytes / 1024).toFixed(0)} KiB, median ${pt.median.toFixed(0)} ms`);

  for (const family of [4, 6] as const) {
    let rules = 0;
    let enforcing = 0;
    let steps = 0;
    let max = { rules: 0, name: '' };
    const lines: string[] = [];
    for (const cs of loadConformance(family)) {
      for (const step of cs.steps) {
        const out = translateCilium(step.snapshot);
        const n = counts(out.objects).rules;
        rules += n;
        enforcing += enforcingRules(step.snapshot);
        steps++;
        if (n > max.rules) max = { rules: n, name: `${cs.name} step ${step.step}` };
        if (family === 4 && step.step === 0) lines.push(`    ${cs.name}: ${n} rules (${enforcingRules(step.snapshot)} CNP rules to enforce)`);
      }
    }
    console.log(`conformance suite (IPv${family}): ${steps} steps, ${rules} generated rules for ${enforcing} CNP rules that need enforcing; largest: ${max.name} (${max.rules})`);
    if (family === 4) console.log(lines.join('\n'));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
