import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCilium, UNKNOWN_AGENT, type CiliumAgent } from '../../../../src/translate/cilium/index.js';
import type { KubeObject } from '../../../../src/translate/types.js';
import { scenarioArb } from '../../../support/arbitraries.js';
import { expressibleScenarioArb, withUnselectableLabel } from '../../../support/arbitraries-cilium.js';
import { loadConformance } from '../../../support/conformance.js';
import { type CelTable, crdValidator, schemaErrors } from '../../../support/crd-schema.js';
import { ciliumCrds } from '../../../support/paths.js';
import { edgeCaseSnapshot } from './fixtures.js';

// Every generated object validates against Cilium's own CCNP CRD, taken from the
// github.com/cilium/cilium module of each version (hack/upstream.sh): unknown fields are errors,
// and the one CEL rule ("spec or specs must be provided") is checked by hand.

export const CILIUM_CRD_VERSIONS = ['v1.18.2', 'v1.19.3', 'v1.20.2'] as const;
const CEL: CelTable = { 'has(self.spec) || has(self.specs)': (s) => s['spec'] !== undefined || s['specs'] !== undefined };
const validators = CILIUM_CRD_VERSIONS.map((v) => crdValidator(join(ciliumCrds(v), 'ciliumclusterwidenetworkpolicies.yaml'), CEL));

/** Output for agents with every setting that changes what is written. */
const AGENTS: readonly CiliumAgent[] = [
  {},
  { version: 19, nodeSelectorLabels: true },
  { version: 20, nodeSelectorLabels: true, cidrMatchMode: ['pods', 'nodes'] },
  { version: 18, cidrMatchMode: ['nodes'], policyDefaultLocalCluster: false, nodeSelectorLabels: true },
  UNKNOWN_AGENT,
];

function problems(objects: readonly KubeObject[]): string[] {
  return objects.flatMap((o) => validators.flatMap((v) => schemaErrors(v, o, o.metadata.name)));
}

describe('generated CiliumClusterwideNetworkPolicies validate against the CRD schema', () => {
  it('rejects what the API server would reject (the check is not vacuous)', () => {
    const ccnp = translateCilium(edgeCaseSnapshot()).objects[0]!;
    expect(problems([{ ...ccnp, spec: { endpointSelector: {}, ingress: [{ fromCIDR: ['not a cidr'], typo: 1 }] } } as KubeObject])).not.toEqual([]);
    const { specs: _specs, spec: _spec, ...bare } = ccnp as KubeObject & { spec?: unknown; specs?: unknown };
    expect(problems([bare as KubeObject])).not.toEqual([]);
  });

  it('on every step of the conformance suite (IPv4 and IPv6)', () => {
    for (const family of [4, 6] as const) {
      for (const c of loadConformance(family)) for (const step of c.steps) for (const agent of AGENTS) expect(problems(translateCilium(step.snapshot, { agent }).objects)).toEqual([]);
    }
  });

  it('on the edge cases (long names, many ports, every peer kind, domain names)', () => {
    const t = translateCilium(edgeCaseSnapshot());
    expect(t.objects.length).toBeGreaterThan(0);
    expect(problems(t.objects)).toEqual([]);
  });

  it('on random scenarios', () => {
    const arb = fc.oneof(
      expressibleScenarioArb(),
      scenarioArb(),
      scenarioArb().map((s) => withUnselectableLabel(s)),
    );
    fc.assert(
      fc.property(arb, fc.constantFrom(...AGENTS), ({ snapshot }: { snapshot: Snapshot }, agent) => {
        expect(problems(translateCilium(snapshot, { agent }).objects)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
