import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy, Snapshot } from '../../../src/api/model.js';
import { translateCilium } from '../../../src/translate/cilium/index.js';
import type { KubeObject, Translation } from '../../../src/translate/types.js';
import { withUnselectableLabel } from '../../support/arbitraries-cilium.js';
import { CONFIGURATIONS, type Configuration } from './configs.js';
import { engineBinary } from './engine.js';
import { judgeRandom } from './random.js';
import { engineScenarioArb, withNodeSelectors } from './scenarios.js';
import { scoreOurs } from './suite.js';

// The engine suites can fail: deliberate translator bugs, each of which they must catch.

function config(name: string): Configuration {
  const c = CONFIGURATIONS.find((x) => x.name.startsWith(name));
  if (c === undefined) throw new Error(`no configuration ${name}`);
  return c;
}

function passAsAccept(s: Snapshot): Snapshot {
  const policy = (p: Policy): Policy => ({
    ...p,
    ingress: p.ingress.map((r) => (r.action === 'Pass' ? { ...r, action: 'Accept' } : r)),
    egress: p.egress.map((r) => (r.action === 'Pass' ? { ...r, action: 'Accept' } : r)),
  });
  return { ...s, policies: s.policies.map(policy) };
}

/** Every numbered port of the generated objects, one higher. */
function portsOffByOne(t: Translation): Translation {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'port' && typeof x === 'string' && /^[1-9][0-9]*$/.test(x)) out[k] = String(Number(x) + 1);
      else if (k === 'endPort' && typeof x === 'number') out[k] = x + 1;
      else out[k] = walk(x);
    }
    return out;
  };
  return { ...t, objects: t.objects.map((o) => walk(o) as KubeObject) };
}

const caught = (s: { failOpen: number; unreported: number; rejected: readonly unknown[] | number }) =>
  s.failOpen + s.unreported + (typeof s.rejected === 'number' ? s.rejected : s.rejected.length);

beforeAll(() => {
  engineBinary();
});

describe('deliberate translator bugs fail the engine suites', () => {
  const defaults119 = config('1.19 defaults');

  it('Pass treated as Accept', () => {
    const score = scoreOurs(defaults119, (step) => translateCilium(passAsAccept(step.snapshot), { agent: defaults119.translator }));
    expect(score.failOpen).toBeGreaterThan(0);
  });

  it('a port off by one in the generated objects', () => {
    const score = scoreOurs(defaults119, (step) => portsOffByOne(translateCilium(step.snapshot, { agent: defaults119.translator })));
    expect(caught(score)).toBeGreaterThan(0);
  });

  it('toNodes written whatever the agent (as before the translation took agent settings)', () => {
    const scenarios = fc.sample(engineScenarioArb().map((s) => ({ ...s, scenario: withNodeSelectors(s.scenario) })), { numRuns: 200, seed: 1 });
    const tally = judgeRandom(defaults119, scenarios, { version: 19, nodeSelectorLabels: true });
    expect(tally.rejected).toBeGreaterThan(0);
    expect(tally.failOpen).toBeGreaterThan(0);
  });

  it('a label filter of another release (1.18 keeps topology.kubernetes.io labels, 1.19 does not)', () => {
    const scenarios = fc.sample(engineScenarioArb().map((s) => ({ ...s, scenario: withUnselectableLabel(s.scenario, 'tier', 'topology.kubernetes.io/zone') })), { numRuns: 200, seed: 2 });
    const tally = judgeRandom(defaults119, scenarios, { version: 18 });
    expect(tally.failOpen + tally.unreported).toBeGreaterThan(0);
  });

  it('CIDRs taken to stay outside the cluster where policy-cidr-match-mode makes them reach pods and nodes', () => {
    const reach = config('1.20, enable-node-selector-labels, policy-cidr-match-mode');
    const scenarios = fc.sample(engineScenarioArb(), { numRuns: 200, seed: 3 });
    const tally = judgeRandom(reach, scenarios, { ...reach.translator, cidrMatchMode: [] });
    expect(tally.failOpen).toBeGreaterThan(0);
  });
});
