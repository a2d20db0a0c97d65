import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCilium, type CiliumAgent, type CiliumOptions } from '../../../../src/translate/cilium/index.js';
import { IncrementalCilium, type Faults } from '../../../../src/translate/cilium/incremental.js';
import { applyChange, changeSequenceArb, type Change } from '../../../support/arbitraries-changes.js';
import type { Family } from '../../../support/arbitraries.js';
import type { Finding } from '../../../../src/translate/types.js';
import { CLUSTER, snapshotOf } from './fixtures.js';

// The incremental Cilium translation must equal the full one (translateCilium, the reference),
// objects and findings byte for byte, after every step of random change sequences — under the
// agent settings that change what the compiler asks of the cluster (named ports per destination
// or cluster-wide, CIDRs reaching pods, nodes, or unknown), with and without pruning, and with a
// rule bound small enough to be reached. Deliberately wrong invalidation rules must be caught.

const RUNS = Number(process.env.CILIUM_INCREMENTAL_RUNS ?? 250);

const AGENTS: readonly CiliumAgent[] = [
  {},
  { version: 20, cidrMatchMode: ['pods'] },
  { version: 19, cidrMatchMode: ['nodes'], nodeSelectorLabels: true },
  { version: 20, cidrMatchMode: ['pods', 'nodes'], nodeSelectorLabels: true },
  { labels: 'unknown', nodeLabels: 'unknown', cidrMatchMode: 'unknown' },
  { version: 18, nodeSelectorLabels: true, policyDefaultLocalCluster: false },
];

const optionsArb: fc.Arbitrary<CiliumOptions> = fc.record({
  agent: fc.constantFrom(...AGENTS),
  pruneAbsentNamespaces: fc.boolean(),
  maxRules: fc.constantFrom(20_000, 20_000, 6),
});

const json = (x: unknown): string => JSON.stringify(x);

/** Runs the sequence; the first step whose incremental output differs from the full one, or undefined. */
function firstDifference(start: Snapshot, family: Family, changes: readonly Change[], options: CiliumOptions, faults: Faults = {}, partialUpTo?: number, partial?: { steps: number }): string | undefined {
  const incremental = new IncrementalCilium(options, { faults, ...(partialUpTo === undefined ? {} : { partialUpTo }) });
  let snapshot = start;
  for (let step = 0; step <= changes.length; step++) {
    if (step > 0) snapshot = applyChange(snapshot, changes[step - 1]!, family, step);
    const full = translateCilium(snapshot, options);
    const inc = incremental.translate(snapshot);
    if (partial !== undefined && inc.partial) partial.steps++;
    if (json(inc.objects) !== json(full.objects)) return `step ${step} (${step === 0 ? 'start' : changes[step - 1]!.kind}): objects differ`;
    if (json(inc.findings) !== json(full.findings)) return `step ${step} (${step === 0 ? 'start' : changes[step - 1]!.kind}): findings differ`;
    // What it says per policy is the same translation, and what it says changed did.
    const byPolicy = [...inc.byPolicy.values()].flatMap((o) => o.objects);
    if (byPolicy.length !== full.objects.length) return `step ${step}: per-policy objects do not add up`;
    for (const [name, out] of inc.byPolicy) {
      if (json(out.findings) !== json(full.findings.filter((f) => f.policy === name))) return `step ${step}: findings of ${name} differ`;
    }
  }
  return undefined;
}

describe('incremental Cilium translation', () => {
  it(`equals the full translation after every step of random changes (${RUNS} sequences)`, () => {
    fc.assert(
      fc.property(changeSequenceArb({ maxPolicies: 5, maxPods: 7 }, 8), optionsArb, ({ family, snapshot, changes }, options) => {
        const diff = firstDifference(snapshot, family, changes, options);
        if (diff !== undefined) throw new Error(diff);
      }),
      { numRuns: RUNS },
    );
  });

  // Changes of policies and pods (namespaces, nodes and NetworkPolicies stay as they are): the
  // partial walk, whenever it applies.
  const policyChanges = changeSequenceArb({ maxPolicies: 8, maxPods: 7 }, 12).map((s) => ({ ...s, changes: s.changes.filter((c) => c.kind.startsWith('cnp-') || c.kind.startsWith('pod-')) }));

  it(`equals the full translation after every step of policy and pod changes, walking only the policies a change can affect (${RUNS} sequences)`, () => {
    const partial = { steps: 0 };
    fc.assert(
      fc.property(policyChanges, optionsArb, ({ family, snapshot, changes }, options) => {
        const diff = firstDifference(snapshot, family, changes, options, {}, 1, partial);
        if (diff !== undefined) throw new Error(diff);
      }),
      { numRuns: RUNS },
    );
    // Most sequences have steps walked partially (the equality above is about them).
    expect(partial.steps).toBeGreaterThan(RUNS);
  });

  it('walks everything after a translation that reached the rule bound, even when the change brings it below', () => {
    // With the bound reached, the steps after it were cut short because of everything before
    // them: none can be kept for a partial walk.
    const cnp = (name: string, priority: number, subject: string, rules: string) =>
      `---\napiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  tier: Admin\n  priority: ${priority}\n  subject: {namespaces: ${subject}}\n${rules}`;
    const all = cnp('all', 0, '{}', '  ingress:\n  - {action: Pass, from: [{namespaces: {matchLabels: {app: a}}}], protocols: [{tcp: {destinationPort: {number: 53}}}]}\n  egress:\n  - {action: Accept, to: [{nodes: {}}]}\n');
    const ns0 = cnp('ns0', 5, '{matchLabels: {kubernetes.io/metadata.name: ns-0}}', `  ingress:\n${['{}', '{matchLabels: {kubernetes.io/metadata.name: ns-0}}', '{}'].map((n) => `  - {action: Accept, from: [{namespaces: ${n}}]}\n`).join('')}`);
    const options = { maxRules: 6 };
    const incremental = new IncrementalCilium(options, { partialUpTo: 1 });
    for (const text of [`${CLUSTER}\n${all}${ns0}`, `${CLUSTER}\n${all}`]) {
      const snapshot = snapshotOf(text);
      const inc = incremental.translate(snapshot);
      expect(json(inc.objects)).toBe(json(translateCilium(snapshot, options).objects));
      expect(inc.partial).toBe(false);
    }
  });

  it('reports as changed exactly the policies whose objects or findings changed', () => {
    fc.assert(
      fc.property(changeSequenceArb({ maxPolicies: 5, maxPods: 7 }, 6), optionsArb, ({ family, snapshot, changes }, options) => {
        const incremental = new IncrementalCilium(options);
        let s = snapshot;
        let before = new Map<string, string>();
        for (let step = 0; step <= changes.length; step++) {
          if (step > 0) s = applyChange(s, changes[step - 1]!, family, step);
          const t = incremental.translate(s);
          const now = new Map([...t.byPolicy].map(([name, o]) => [name, json([o.objects, o.findings])]));
          const expected = [...new Set([...before.keys(), ...now.keys()])].filter((n) => before.get(n) !== now.get(n)).sort();
          expect([...t.changed].sort()).toEqual(expected);
          before = now;
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  // Partially (nothing to walk) and wholly: the whole walk reuses every step too.
  for (const partialUpTo of [undefined, 0]) {
    it(`reuses every step when nothing changed, and recomputes nothing for a pod change no question depends on (${partialUpTo === 0 ? 'whole walks' : 'partial walks'})`, () => {
      const { snapshot, family } = fc.sample(changeSequenceArb({ maxPolicies: 6, maxPods: 7 }), { numRuns: 1, seed: 13 })[0]!;
      const incremental = new IncrementalCilium({}, partialUpTo === undefined ? {} : { partialUpTo });
      const first = incremental.translate(snapshot);
      expect(first.steps.rules.reused).toBe(0);
      expect(first.steps.emits.computed).toBeGreaterThan(0);
      const again = incremental.translate({ ...snapshot, pods: snapshot.pods.map((p) => ({ ...p })) });
      expect(again.steps.rules.computed + again.steps.subtractions.computed + again.steps.emits.computed).toBe(0);
      expect(again.changed).toEqual([]);
      // A pod whose labels no policy question involves, in a namespace that exists, with no named ports.
      const quiet = { ...snapshot, pods: [...snapshot.pods, { namespace: 'ns-0', name: 'quiet', labels: { unrelated: 'x' }, hostNetwork: false, nodeName: 'node-0', ips: [family === 4 ? '10.244.9.9' : 'fd00:10:244:9::9'], ports: [] }] };
      const after = incremental.translate(quiet);
      expect(after.objects).toEqual(first.objects);
      expect(after.steps.subtractions.computed).toBeLessThanOrEqual(first.steps.subtractions.computed);
    });
  }

  it('words a later rule\'s finding afresh when only the name of an earlier rule it names changes', () => {
    const withName = (name: string): Snapshot => {
      const cnp = (policy: string, priority: number, rule: string) =>
        `---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: ${policy}}\nspec:\n  tier: Admin\n  priority: ${priority}\n  subject: {namespaces: {}}\n  egress:\n  - ${rule}\n`;
      return snapshotOf(
        `${CLUSTER}\n${cnp('first', 1, `{name: ${name}, action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}`)}${cnp('second', 2, '{action: Deny, to: [{namespaces: {}}]}')}`,
      );
    };
    const message = (t: { findings: readonly Finding[] }) => t.findings.find((f) => f.policy === 'second' && f.kind === 'port-complement')?.message;
    for (const faults of [{}, { origins: true }] as const) {
      const incremental = new IncrementalCilium({}, { faults });
      expect(message(incremental.translate(withName('web')))).toContain('(first egress[0] "web")');
      const renamed = withName('http');
      const full = translateCilium(renamed);
      expect(message(full)).toContain('(first egress[0] "http")');
      const inc = incremental.translate(renamed);
      // The later rule's cubes and the earlier cubes are the same: only the names tell the steps apart.
      if (faults.origins === true) expect(message(inc)).toContain('(first egress[0] "web")');
      else {
        expect(json(inc.findings)).toBe(json(full.findings));
        // The rule name is not in what first writes: what changed is second's finding.
        expect(inc.changed).toEqual(['second']);
      }
    }
  });

  it('reuses a later entry\'s subtraction when an earlier CNP of its group changes in a way that meets none of its cubes', () => {
    // Three CNPs on one subject; the first one's port changes. The later entries' places among the
    // earlier cubes move (the first CNP's cubes are made again) but name the same cubes: their
    // subtractions are reused, and only the changed CNP's is computed again.
    const cnp = (name: string, priority: number, rule: string) =>
      `---\napiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  tier: Admin\n  priority: ${priority}\n  subject: {namespaces: {}}\n  egress:\n  - ${rule}\n`;
    const withPort = (port: number): Snapshot =>
      snapshotOf(
        `${CLUSTER}\n${cnp('a', 1, `{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: ${port}}}}]}`)}` +
          `${cnp('b', 2, '{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 443}}}]}')}` +
          `${cnp('c', 3, '{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 8443}}}]}')}`,
      );
    const incremental = new IncrementalCilium({});
    const first = incremental.translate(withPort(80));
    expect(first.steps.subtractions.computed).toBe(3);
    const changed = withPort(81);
    const after = incremental.translate(changed);
    expect(json(after.objects)).toBe(json(translateCilium(changed).objects));
    expect(after.steps.subtractions).toEqual({ computed: 1, reused: 2 });
  });

  it('asks again which earlier cubes meet an entry when the kept answer is older than the last translation', () => {
    // Round 1: y (a CIDR, not meeting the deny) comes before the deny; round 2: y is gone and x
    // comes after it; round 3: x moves before it. x's cubes are where y's were two rounds ago,
    // and the same as in the last round, so only the age of the kept answer tells it is stale.
    const policy = (name: string, priority: number, rule: string): Snapshot['policies'][number] =>
      snapshotOf(`${CLUSTER}\n---\napiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  tier: Admin\n  priority: ${priority}\n  subject: {namespaces: {}}\n  egress:\n  - ${rule}\n`).policies[0]!;
    const base = snapshotOf(CLUSTER);
    const deny = policy('deny', 5, '{action: Deny, to: [{namespaces: {}}]}');
    const y = policy('y', 1, '{action: Accept, to: [{networks: [192.0.2.0/24]}]}');
    const xLate = policy('x', 10, '{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}');
    const xEarly = policy('x', 1, '{action: Accept, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}');
    const incremental = new IncrementalCilium({});
    for (const policies of [[y, deny], [deny, xLate], [deny, xEarly]]) {
      const snapshot = { ...base, policies };
      expect(json(incremental.translate(snapshot).objects)).toBe(json(translateCilium(snapshot).objects));
    }
  });

  // The equivalence test can fail: each deliberately wrong invalidation rule is caught.
  for (const [fault, why] of [
    [{ earlier: true }, 'a subtraction reused although the earlier cubes it subtracts changed'],
    [{ answers: true }, 'steps reused although the cluster answers their questions differently'],
    [{ policy: true }, 'a rule step reused although its policy changed'],
    [{ vouch: true }, 'an answer taken as unchanged although the pod changes moved its tally'],
    [{ relevance: true }, 'which earlier cubes may intersect an entry kept although those cubes changed'],
  ] as const) {
    it(`catches ${why}`, () => {
      const found = fc.check(
        fc.property(changeSequenceArb({ maxPolicies: 5, maxPods: 7 }, 8), optionsArb, ({ family, snapshot, changes }, options) => firstDifference(snapshot, family, changes, options, fault) === undefined),
        { numRuns: 2000, seed: 1 },
      );
      expect(found.failed).toBe(true);
    });
  }

  it('catches a partial walk that leaves out the policies the changed ones connect to', () => {
    const found = fc.check(
      fc.property(policyChanges, optionsArb, ({ family, snapshot, changes }, options) => firstDifference(snapshot, family, changes, options, { reach: true }, 1) === undefined),
      { numRuns: 2000, seed: 1 },
    );
    expect(found.failed).toBe(true);
  });
});
