import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/api/model.js';
import { Evaluator } from '../../../src/semantics/evaluate.js';
import { translateCalico } from '../../../src/translate/calico/index.js';
import type { KubeObject } from '../../../src/translate/types.js';
import { CalicoModel } from '../../models/calico/index.js';
import { flowPortsArb, flowsFor, scenarioArb } from '../../support/arbitraries.js';
import { loadConformance } from '../../support/conformance.js';

// The checks are only as good as their power to notice a wrong translation. Each case below breaks
// the translated objects the way a plausible bug would and requires the conformance suite or the
// random scenarios, decided by the Calico model, to notice.

type Json = Record<string, unknown>;
type Mutation = (objects: KubeObject[]) => KubeObject[];

const mapRules = (objects: KubeObject[], f: (rule: Json) => Json[]): KubeObject[] =>
  objects.map((o) => {
    if (o.kind !== 'GlobalNetworkPolicy') return o;
    const spec = { ...(o.spec as Json) };
    for (const dir of ['ingress', 'egress']) if (Array.isArray(spec[dir])) spec[dir] = (spec[dir] as Json[]).flatMap(f);
    return { ...o, spec };
  });

const mapSpec = (kind: string, f: (spec: Json, o: KubeObject) => Json): Mutation => (objects) => objects.map((o) => (o.kind === kind ? { ...o, spec: f({ ...(o.spec as Json) }, o) } : o));

function conformanceMisses(mutate: Mutation): number {
  let misses = 0;
  for (const family of [4, 6] as const) {
    for (const c of loadConformance(family)) {
      for (const step of c.steps) {
        const model = new CalicoModel(mutate([...translateCalico(step.snapshot).objects]), step.snapshot, { validate: false });
        for (const probe of step.probes) if (model.evaluate(probe.flow).verdict !== probe.expect) misses++;
      }
    }
  }
  return misses;
}

function randomMisses(mutate: Mutation, runs = 300): number {
  let scenarios = 0;
  for (const [scenario, ports, hosts] of fc.sample(fc.tuple(scenarioArb(), flowPortsArb, fc.boolean()), { numRuns: runs, seed: 11 })) {
    const snapshot: Snapshot = scenario.snapshot;
    const model = new CalicoModel(mutate([...translateCalico(snapshot).objects]), snapshot, { validate: false, autoHostEndpoints: hosts });
    const evaluator = new Evaluator(snapshot);
    if (flowsFor(snapshot, scenario.family, ports).some((f) => model.evaluate(f).verdict !== evaluator.evaluate(f).verdict)) scenarios++;
  }
  return scenarios;
}

describe('the Calico checks notice a wrong translation', () => {
  it('unmutated: no misses', () => {
    expect(conformanceMisses((o) => o)).toBe(0);
    expect(randomMisses((o) => o, 100)).toBe(0);
  });

  it('Pass written as Allow', () => {
    const m: Mutation = (objects) => mapRules(objects, (r) => [r['action'] === 'Pass' ? { ...r, action: 'Allow' } : r]);
    expect(conformanceMisses(m)).toBeGreaterThan(0);
  });

  it('Baseline tier before the default tier (NetworkPolicy no longer final)', () => {
    expect(conformanceMisses(mapSpec('Tier', (s, o) => (o.metadata.name === 'cnp-baseline' ? { ...s, order: 500_000 } : s)))).toBeGreaterThan(0);
  });

  it('Admin tier after the default tier', () => {
    expect(conformanceMisses(mapSpec('Tier', (s, o) => (o.metadata.name === 'cnp-admin' ? { ...s, order: 2_000_000 } : s)))).toBeGreaterThan(0);
  });

  it('tiers ending in Deny instead of Pass', () => {
    expect(conformanceMisses(mapSpec('Tier', (s) => ({ ...s, defaultAction: 'Deny' })))).toBeGreaterThan(0);
  });

  it('IPv6 CIDRs dropped', () => {
    const m: Mutation = (objects) => mapRules(objects, (r) => (((r['destination'] as Json | undefined)?.['nets'] as string[] | undefined)?.some((n) => n.includes(':')) ? [] : [r]));
    expect(conformanceMisses(m)).toBeGreaterThan(0);
  });

  it('named ports written without a protocol (as Calico’s own CNP support does: TCP only in Felix)', () => {
    const m: Mutation = (objects) =>
      mapRules(objects, (r) => {
        const d = r['destination'] as Json | undefined;
        const names = ((d?.['ports'] as unknown[] | undefined) ?? []).filter((p) => typeof p === 'string' && !p.includes(':'));
        if (names.length === 0) return [r];
        const { protocol: _protocol, ...rest } = r;
        return [{ ...rest, destination: { ...d, ports: names } }];
      });
    expect(conformanceMisses(m)).toBeGreaterThan(0);
  });

  it('ties in priority left to Felix (order = priority)', () => {
    expect(randomMisses(mapSpec('GlobalNetworkPolicy', (s) => ({ ...s, order: Math.floor(s['order'] as number) })))).toBeGreaterThan(0);
  });

  it('selectors without the orchestrator clause (host endpoints and network sets match)', () => {
    const strip = (sel: unknown): unknown => (typeof sel === 'string' ? sel.replace(/projectcalico\.org\/orchestrator == 'k8s'( && )?/, '') : sel);
    const m: Mutation = (objects) =>
      mapRules(mapSpec('GlobalNetworkPolicy', (s) => ({ ...s, selector: strip(s['selector']) }))(objects), (r) => {
        const peer = (e: unknown): unknown => (e === undefined ? e : { ...(e as Json), selector: strip((e as Json)['selector']) });
        return [{ ...r, ...(r['source'] === undefined ? {} : { source: peer(r['source']) }), ...(r['destination'] === undefined ? {} : { destination: peer(r['destination']) }) }];
      });
    expect(randomMisses(m)).toBeGreaterThan(0);
  });

  it('node sets left empty', () => {
    expect(randomMisses(mapSpec('GlobalNetworkSet', (s) => ({ ...s, nets: [] })))).toBeGreaterThan(0);
  });

  it('types for both directions on a policy with rules in one (with tiers that deny at the end)', () => {
    const m: Mutation = (objects) => mapSpec('GlobalNetworkPolicy', (s) => ({ ...s, types: ['Ingress', 'Egress'] }))(mapSpec('Tier', (s) => ({ ...s, defaultAction: 'Deny' }))(objects));
    const control: Mutation = mapSpec('Tier', (s) => ({ ...s, defaultAction: 'Deny' }));
    expect(randomMisses(m)).toBeGreaterThan(randomMisses(control));
  });
});
