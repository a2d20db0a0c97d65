import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pod, Snapshot } from '../../../../src/api/model.js';
import { translateCilium, type CiliumAgent, type CiliumOptions } from '../../../../src/translate/cilium/index.js';
import { IncrementalCilium } from '../../../../src/translate/cilium/incremental.js';
import type { PodWatch } from '../../../../src/translate/cilium/pod-watch.js';
import { applyChange, changeArb, type Change } from '../../../support/arbitraries-changes.js';
import { scenarioArb, type Family } from '../../../support/arbitraries.js';

// The operator skips recomputing for pod events the PodWatch calls irrelevant. That is sound
// when: after any run of pod events it let pass, the full translation of the cluster is still
// the translation it was seeded with (objects and findings, byte for byte).

const RUNS = Number(process.env.CILIUM_POD_WATCH_RUNS ?? 300);
const AGENTS: readonly CiliumAgent[] = [
  {},
  { version: 20, cidrMatchMode: ['pods'] },
  { version: 19, cidrMatchMode: ['nodes'], nodeSelectorLabels: true },
  { labels: 'unknown', nodeLabels: 'unknown', cidrMatchMode: 'unknown' },
  { version: 20 },
];
const POD_CHANGES = new Set<Change['kind']>(['pod-add', 'pod-delete', 'pod-labels', 'pod-address', 'pod-ports']);
const podChangesArb = fc.array(changeArb({ maxPolicies: 5 }).filter((c) => POD_CHANGES.has(c.kind)), { minLength: 1, maxLength: 10 });
const json = (x: unknown): string => JSON.stringify(x);

/** The pod events between two snapshots, as an informer reports them. */
function podEvents(before: Snapshot, after: Snapshot): [Pod | undefined, Pod | undefined][] {
  const key = (p: Pod) => `${p.namespace}/${p.name}`;
  const was = new Map(before.pods.map((p) => [key(p), p]));
  const is = new Map(after.pods.map((p) => [key(p), p]));
  const out: [Pod | undefined, Pod | undefined][] = [];
  for (const [k, p] of was) if (!is.has(k)) out.push([p, undefined]);
  for (const [k, p] of is) if (was.get(k) !== p) out.push([was.get(k), p]);
  return out;
}

/** Pod changes one by one; how many the watch let pass before the first it did not, and whether the translation held. */
function run(snapshot: Snapshot, family: Family, changes: readonly Change[], options: CiliumOptions, judge: (w: PodWatch, b: Pod | undefined, a: Pod | undefined) => boolean, again = false): { passed: number; held: boolean } {
  const incremental = new IncrementalCilium(options, { watchPods: true });
  // `again`: the watch of a second translation of the same pods (one that reuses the first's tallies).
  if (again) incremental.translate({ ...snapshot, policies: snapshot.policies.slice(1), pods: snapshot.pods.map((p) => ({ ...p })) });
  const seeded = incremental.translate(snapshot);
  let s = snapshot;
  let passed = 0;
  for (const [i, change] of changes.entries()) {
    const next = applyChange(s, change, family, 100 + i);
    let relevant = false;
    for (const [b, a] of podEvents(s, next)) relevant = judge(seeded.pods!, b, a) || relevant;
    s = next;
    if (relevant) break;
    passed++;
    const full = translateCilium(s, options);
    if (json(full.objects) !== json(seeded.objects) || json(full.findings) !== json(seeded.findings)) return { passed, held: false };
  }
  return { passed, held: true };
}

const optionsArb = fc.record({ agent: fc.constantFrom(...AGENTS), pruneAbsentNamespaces: fc.boolean() });

describe('pod events the translation does not depend on', () => {
  it(`never change the translation (${RUNS} scenarios)`, () => {
    let passed = 0;
    fc.assert(
      fc.property(scenarioArb({ maxPolicies: 5, maxPods: 7 }), podChangesArb, optionsArb, fc.boolean(), ({ family, snapshot }, changes, options, again) => {
        const r = run(snapshot, family, changes, options, (w, b, a) => w.judge(b, a), again);
        passed += r.passed;
        if (!r.held) throw new Error(`a pod change the watch let pass changed the translation (after ${r.passed})`);
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: many pod changes pass.
    expect(passed).toBeGreaterThan(RUNS / 2);
  });

  it('lets most pod churn of a large cluster pass, and not a pod that changes a named-port value', () => {
    const pod = (i: number, ns: string, app: string, port = 8080): Pod => ({ namespace: ns, name: `p${i}`, labels: { app }, hostNetwork: false, nodeName: 'n', ips: [`10.1.${i >> 8}.${i & 255}`], ports: [{ name: 'http', port, protocol: 'TCP' }] });
    const snapshot: Snapshot = {
      policies: [
        {
          name: 'web',
          uid: undefined,
          generation: 1,
          tier: 'Admin',
          priority: 1,
          subject: { namespaces: { requirements: [] }, pods: { requirements: [{ key: 'app', operator: 'In', values: ['web'] }] } },
          ingress: [{ index: 0, name: undefined, action: 'Accept', peers: [{ kind: 'pods', pods: { namespaces: { requirements: [] }, pods: { requirements: [] } } }], ports: [{ kind: 'named', name: 'http' }] }],
          egress: [],
        },
      ],
      networkPolicies: [],
      namespaces: [{ name: 'a', labels: { 'kubernetes.io/metadata.name': 'a' } }],
      pods: Array.from({ length: 50 }, (_, i) => pod(i, 'a', i % 2 === 0 ? 'web' : 'db')),
      nodes: [],
    };
    const t = new IncrementalCilium({}, { watchPods: true }).translate(snapshot);
    const w = t.pods!;
    expect(w.judge(undefined, pod(100, 'a', 'db'))).toBe(false); // a pod no subject selects
    expect(w.judge(pod(1, 'a', 'db'), undefined)).toBe(false);
    expect(w.judge(undefined, pod(101, 'a', 'web'))).toBe(false); // one more web replica, same port
    expect(w.judge(pod(0, 'a', 'web'), undefined)).toBe(false); // one replica fewer
    expect(w.judge(undefined, pod(102, 'a', 'web', 9090))).toBe(true); // http is now two numbers
  });

  it('can fail: a watch that ignores deletions is caught', () => {
    const r = fc.check(
      fc.property(scenarioArb({ maxPolicies: 5, maxPods: 7 }), podChangesArb, optionsArb, ({ family, snapshot }, changes, options) => run(snapshot, family, changes, options, (w, b, a) => (a === undefined ? (w.judge(b, a), false) : w.judge(b, a))).held),
      { numRuns: 3000, seed: 3 },
    );
    expect(r.failed).toBe(true);
  });
});
