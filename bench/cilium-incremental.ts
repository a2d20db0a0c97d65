// Incremental Cilium translation on a large cluster, in process (not part of the tests): the
// full translation against the incremental one after one change of each kind, and how many
// pod events of realistic churn the pod watch lets pass.
// Run: npx tsx bench/cilium-incremental.ts [--namespaces 2000] [--pods-per-namespace 10] [--cnps 200]
import { loadavg } from 'node:os';
import type { Pod, Policy, Snapshot } from '../src/api/model.js';
import { translateCilium } from '../src/translate/cilium/index.js';
import { IncrementalCilium } from '../src/translate/cilium/incremental.js';
import { clusterShape, shapeSnapshot } from './cluster-shape.js';

const args = new Map<string, number>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), Number(process.argv[i + 1]));
const NAMESPACES = args.get('namespaces') ?? 2000;
const PODS = args.get('pods-per-namespace') ?? 10;
const CNPS = args.get('cnps') ?? 200;

const snapshot = shapeSnapshot(clusterShape({ namespaces: NAMESPACES, podsPerNamespace: PODS, cnps: CNPS }));
const ms = (t: number) => `${t.toFixed(0)} ms`;
const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
};
console.log(`${snapshot.namespaces.length} namespaces, ${snapshot.pods.length} pods, ${snapshot.networkPolicies.length} NetworkPolicies, ${snapshot.policies.length} CNPs; load average ${loadavg()[0]!.toFixed(1)} (2 cores)`);

const inc = new IncrementalCilium({}, { watchPods: true });
const [first, tFirst] = time(() => inc.translate(snapshot));
const [, tFull] = time(() => translateCilium(snapshot));
console.log(`full translation ${ms(tFull)}; first incremental (records every question, seeds the pod watch) ${ms(tFirst)}; ${first.questions.length} questions, ${first.pods!.size} about pods`);

function step(name: string, next: Snapshot): void {
  const [t, tInc] = time(() => inc.translate(next));
  const [, tRef] = time(() => translateCilium(next));
  const s = t.steps;
  console.log(
    `  ${name}: incremental ${ms(tInc)} (full ${ms(tRef)}); steps computed/reused: rules ${s.rules.computed}/${s.rules.reused}, subtractions ${s.subtractions.computed}/${s.subtractions.reused}, CCNPs ${s.emits.computed}/${s.emits.reused}; changed CNPs ${t.changed.length}`,
  );
}

const withPolicy = (s: Snapshot, name: string, edit: (p: Policy) => Policy): Snapshot => ({ ...s, policies: s.policies.map((p) => (p.name === name ? edit(p) : p)) });
step('nothing changed', { ...snapshot });
const tenant = snapshot.policies.find((p) => p.name.startsWith('tenant-t'))!;
let current = withPolicy(snapshot, tenant.name, (p) => ({ ...p, generation: 2, egress: p.egress.map((r) => (r.index === 1 ? { ...r, ports: [{ kind: 'range', protocol: 'TCP', start: 8443, end: 8443 }] } : r)) }));
step(`one tenant CNP's rule changed (${tenant.name})`, current);
current = withPolicy(current, 'prod-from-dev', (p) => ({ ...p, generation: 2, priority: 46 }));
step('a cluster-wide CNP re-prioritised (prod-from-dev)', current);
current = { ...current, networkPolicies: current.networkPolicies.map((np, i) => (i === 7 ? { ...np, policyTypes: ['ingress', 'egress'] } : np)) };
step('one NetworkPolicy now isolates egress too', current);

// Churn: new replicas, deleted ones, relabelled ones (a new pod-template-hash), one pod of a new app.
const watch = inc.translate(current).pods!;
const pods = current.pods;
let relevant = 0;
let events = 0;
const churn: [Pod | undefined, Pod | undefined][] = [];
for (let i = 0; i < 3000; i++) {
  const p = pods[(i * 7919) % pods.length]!;
  if (i % 3 === 0) churn.push([undefined, { ...p, name: `${p.name}-new${i}`, ips: [`10.250.${(i >> 8) & 255}.${i & 255}`] }]);
  else if (i % 3 === 1) churn.push([p, undefined]);
  else churn.push([p, { ...p, labels: { ...p.labels, 'pod-template-hash': `x${i}` } }]);
}
const [, tJudge] = time(() => {
  for (const [b, a] of churn) {
    events++;
    if (watch.judge(b, a)) relevant++;
  }
});
console.log(`  pod churn: ${events} events (adds, deletes, relabels of the pod-template-hash), ${relevant} judged relevant, ${(tJudge / events).toFixed(3)} ms per event`);
// What the operator meets during churn: a CNP update after pods changed in ways no question depends on.
const churned: Snapshot = { ...current, pods: [...current.pods.filter((_, i) => i % 97 !== 5), ...churn.filter(([, a]) => a !== undefined).map(([, a]) => a!).slice(0, 200)] };
step('a tenant CNP changed after pod churn (200 pods added, 200 gone, none that matters)', withPolicy(churned, tenant.name, (p) => ({ ...p, generation: 3, priority: p.priority + 1 })));
current = churned;
const oddPod: Pod = { ...pods[10]!, name: 'odd', labels: { app: 'web' }, ports: [{ name: 'http', port: 8081, protocol: 'TCP' }] };
const watch2 = inc.translate(current).pods!;
console.log(`  a web pod whose port http is 8081 (not 8080): judged ${watch2.judge(undefined, oddPod) ? 'relevant' : 'not relevant'}`);
step('after that pod is added', { ...current, pods: [...current.pods, oddPod] });
