import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_PODS, type Direction, type PodSet, type Policy, type Rule, type Tier } from '../../../src/api/model.js';
import { analyse, IncrementalAnalysis } from '../../../src/semantics/analysis.js';
import { podSetArb, ruleArb, scenarioArb } from '../../support/arbitraries.js';

// The analysis kept up to date change by change must equal the analysis done from scratch,
// after every step of random sequences of added, changed and removed policies.

describe('incremental analysis', () => {
  it('equals the full analysis after every step of random changes', () => {
    fc.assert(
      fc.property(fc.array(scenarioArb(), { minLength: 2, maxLength: 6 }), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (scenarios, picks) => {
        const state = new IncrementalAnalysis();
        let current: Policy[] = [];
        scenarios.forEach((s, step) => {
          // Keep some policies as they are (same objects), replace or drop others, add new ones.
          const keep = current.filter((_, i) => (picks[step % picks.length]! >> i) % 2 === 0);
          const names = new Set(keep.map((p) => p.name));
          current = [...keep, ...s.snapshot.policies.filter((p) => !names.has(p.name))];
          const before = new Map([...state.names()].map((n) => [n, JSON.stringify(state.forPolicy(n))]));
          for (const _ of state.update(current)) {
            // run to the end
          }
          expect(state.result()).toEqual(analyse(current));
          // What a caller recomputes: every policy whose own analysis moved is reported.
          for (const name of new Set([...before.keys(), ...state.names()])) {
            if (before.get(name) !== (current.some((p) => p.name === name) ? JSON.stringify(state.forPolicy(name)) : undefined)) expect(state.changed()).toContain(name);
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('redoes only the policies a change can affect', () => {
    const base = fc.sample(scenarioArb({ maxPolicies: 12 }), { numRuns: 1, seed: 7 })[0]!.snapshot.policies;
    const state = new IncrementalAnalysis();
    expect([...state.update(base)].length).toBe(base.length);
    expect([...state.update(base)].length).toBe(0);
  });
});

// Random sequences of changes as the operator makes them, on a few dozen policies with few
// subjects (equal ones sometimes as distinct objects) and colliding priorities, so that
// policies cover and shadow one another and tie in priority. After every step, what the
// incremental analysis says (all of it, and per policy) equals a fresh analysis, and every
// policy whose own analysis moved is in changed(). Some updates are left unfinished part way,
// as a caller might: the next one must still come out right.

type Parts = Omit<Policy, 'name' | 'uid' | 'generation' | 'subject'> & { readonly subject: number; readonly copy: boolean };

const NAMES = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}${i % 3 === 0 ? '.x' : ''}`);
const WIDE: Rule[] = (['egress', 'ingress'] as const).map(() => ({ index: 0, name: 'all', action: 'Deny', peers: [{ kind: 'pods', pods: ALL_PODS }], ports: undefined }));

const rulesArb = (direction: Direction) =>
  fc
    .array(fc.oneof({ weight: 4, arbitrary: ruleArb(direction, 0, { namedPorts: false }) }, { weight: 1, arbitrary: fc.constant(WIDE[0]!) }), { maxLength: 4 })
    .map((rules) => rules.map((r, index) => ({ ...r, index })));

const partsArb: fc.Arbitrary<Parts> = fc.record({
  tier: fc.constantFrom<Tier>('Admin', 'Baseline'),
  priority: fc.constantFrom(0, 1, 1, 2, 5),
  subject: fc.nat({ max: 3 }),
  copy: fc.boolean(),
  ingress: rulesArb('ingress'),
  egress: rulesArb('egress'),
});

type Op =
  | { readonly kind: 'add'; readonly pick: number; readonly parts: Parts }
  | { readonly kind: 'remove' | 'touch' | 'rename'; readonly pick: number; readonly to: number }
  | { readonly kind: 'rules'; readonly pick: number; readonly parts: Parts }
  | { readonly kind: 'subject' | 'priority' | 'tier'; readonly pick: number; readonly parts: Parts };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), parts: partsArb }),
  fc.record({ kind: fc.constantFrom('remove' as const, 'touch' as const, 'rename' as const), pick: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constantFrom('rules' as const, 'subject' as const, 'priority' as const, 'tier' as const), pick: fc.nat(), parts: partsArb }),
);

const stepArb = fc.record({
  ops: fc.oneof({ weight: 4, arbitrary: fc.array(opArb, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(opArb, { minLength: 9, maxLength: 20 }) }),
  /** Reorder the list handed over (the operator's is usually in the same order). */
  shuffle: fc.option(fc.nat(), { freq: 4 }),
  /** Leave the update after this many yields. */
  stopAfter: fc.option(fc.nat({ max: 5 }), { freq: 6 }),
});

function changeSequence(subjects: readonly PodSet[], initial: readonly Parts[], steps: readonly { ops: readonly Op[]; shuffle: number | null; stopAfter: number | null }[]): void {
  const make = (name: string, parts: Parts): Policy => {
    const subject = subjects[parts.subject]!;
    return { name, uid: undefined, generation: undefined, tier: parts.tier, priority: parts.priority, subject: parts.copy ? structuredClone(subject) : subject, ingress: parts.ingress, egress: parts.egress };
  };
  const state = new IncrementalAnalysis();
  let current: Policy[] = initial.map((parts, i) => make(NAMES[i]!, parts));
  let before = new Map<string, string>();
  const run = (stopAfter: number | null) => {
    const updating = state.update(current);
    for (let n = 0; !updating.next().done; n++) {
      if (stopAfter !== null && n >= stopAfter) {
        updating.return();
        return false;
      }
    }
    return true;
  };
  const check = () => {
    const fresh = new IncrementalAnalysis();
    for (const _ of fresh.update(current)) {
      // run to the end
    }
    expect(state.result()).toEqual(fresh.result());
    expect(state.result()).toEqual(analyse(current));
    expect(new Set(state.names())).toEqual(new Set(current.map((p) => p.name)));
    const now = new Map(current.map((p) => [p.name, JSON.stringify(state.forPolicy(p.name))]));
    for (const p of current) expect(state.forPolicy(p.name)).toEqual(fresh.forPolicy(p.name));
    for (const name of new Set([...before.keys(), ...now.keys()])) if (before.get(name) !== now.get(name)) expect(state.changed()).toContain(name);
    before = now;
  };
  run(null);
  check();
  for (const { ops, shuffle, stopAfter } of steps) {
    for (const op of ops) {
      const i = current.length === 0 ? -1 : op.pick % current.length;
      const p = current[i];
      const free = NAMES.filter((n) => !current.some((q) => q.name === n));
      if (op.kind === 'add') {
        if (free.length > 0) current.splice(op.pick % (current.length + 1), 0, make(free[op.pick % free.length]!, op.parts));
        continue;
      }
      if (p === undefined) continue;
      switch (op.kind) {
        case 'remove':
          current.splice(i, 1);
          break;
        case 'touch':
          current[i] = { ...p };
          break;
        case 'rename':
          if (free.length > 0) current[i] = { ...p, name: free[op.to % free.length]! };
          break;
        case 'rules':
          current[i] = { ...p, ingress: op.parts.ingress, egress: op.parts.egress };
          break;
        case 'subject':
          current[i] = { ...p, subject: make(p.name, op.parts).subject };
          break;
        case 'priority':
          current[i] = { ...p, priority: op.parts.priority };
          break;
        case 'tier':
          current[i] = { ...p, tier: p.tier === 'Admin' ? 'Baseline' : 'Admin' };
          break;
      }
    }
    if (shuffle !== null) current = fc.sample(fc.shuffledSubarray(current, { minLength: current.length }), { numRuns: 1, seed: shuffle })[0]!;
    // An update left part way is caught up by the next; what it reports then covers both.
    if (run(stopAfter)) check();
  }
  run(null);
  check();
  // Nothing changed: nothing redone, nothing reported.
  expect([...state.update(current)].length).toBe(0);
  expect(state.changed().size).toBe(0);
}

describe('incremental analysis under the operator’s changes', () => {
  it('equals a fresh analysis after every step of random changes to a few dozen policies', () => {
    fc.assert(
      fc.property(fc.array(podSetArb, { minLength: 4, maxLength: 4 }), fc.array(partsArb, { minLength: 20, maxLength: 36 }), fc.array(stepArb, { minLength: 1, maxLength: 12 }), changeSequence),
      { numRuns: 120 },
    );
  });
});

describe('incremental analysis over a long run', () => {
  const allPods: Rule = { index: 0, name: 'all', action: 'Deny', peers: [{ kind: 'pods', pods: ALL_PODS }], ports: undefined };
  const team = (value: string): PodSet => ({ namespaces: { requirements: [{ key: 'team', operator: 'In', values: [value] }] }, pods: { requirements: [] } });
  const policy = (name: string, priority: number, subject: PodSet): Policy => ({ name, uid: undefined, generation: undefined, tier: 'Admin', priority, subject, ingress: [allPods], egress: [{ ...allPods, ports: [{ kind: 'range', protocol: 'TCP', start: 80, end: 80 }] }] });

  it('stays right when it forgets subjects no longer in use', () => {
    // More distinct subjects over time than it keeps (2 × policies + 1000): it forgets them and
    // numbers those in use anew, part way through.
    let current = [policy('wide', 0, ALL_PODS), ...Array.from({ length: 9 }, (_, i) => policy(`p${i}`, i % 3, team('a')))];
    const state = new IncrementalAnalysis();
    for (let step = 0; step < 1_200; step++) {
      const i = 1 + (step % 9);
      current = current.map((p, j) => (j === i ? policy(p.name, step % 3, team(step % 7 === 0 ? 'a' : `t${step}`)) : p));
      for (const _ of state.update(current)) {
        // run to the end
      }
      if (step % 100 === 99 || step > 1_000) expect(state.result()).toEqual(analyse(current));
    }
    expect(state.result().shadowed.length).toBeGreaterThan(0);
  });

  it('takes the last policy of a name given twice', () => {
    const a = policy('a', 1, team('a'));
    const b = policy('b', 0, ALL_PODS);
    const a2 = policy('a', 0, team('a'));
    const state = new IncrementalAnalysis();
    for (const _ of state.update([a, b, a2])) {
      // run to the end
    }
    expect(state.result()).toEqual(analyse([b, a2]));
    expect([...state.names()].sort()).toEqual(['a', 'b']);
  });
});
