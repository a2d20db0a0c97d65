import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../../src/api/ip.js';
import type { Snapshot } from '../../../../src/api/model.js';
import { translateCilium } from '../../../../src/translate/cilium/index.js';
import type { KubeObject } from '../../../../src/translate/types.js';
import { scenarioArb } from '../../../support/arbitraries.js';
import { expressibleScenarioArb, withUnselectableLabel } from '../../../support/arbitraries-cilium.js';
import { loadConformance } from '../../../support/conformance.js';
import { REPO } from '../../../support/paths.js';
import { edgeCaseSnapshot } from './fixtures.js';

// Every generated object validates against the CiliumClusterwideNetworkPolicy schema
// (../shared/upstream/cilium, resolved from the repository root): the ≈1.20 CRD and the 1.18.2
// one. Unknown fields are errors (the conversion added additionalProperties: false), and the
// one CEL rule ("spec or specs must be provided") is checked by hand. Patterns compile without
// the u flag: the only Unicode class (\PC, in log.value) is on a field we never write.

const CILIUM = join(REPO, '..', 'shared', 'upstream', 'cilium');
const SCHEMAS = ['ciliumclusterwidenetworkpolicy_v2.schema.json', 'ciliumclusterwidenetworkpolicy_v2.cilium-1.18.2.schema.json'];

function validator(file: string): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  ajv.addFormat('cidr', { type: 'string', validate: (s: string) => parseCidr(s) !== undefined });
  ajv.addFormat('date-time', true);
  ajv.addFormat('idn-hostname', true);
  return ajv.compile(JSON.parse(readFileSync(join(CILIUM, file), 'utf8')) as object);
}

const validators = SCHEMAS.map((f) => [f, validator(f)] as const);

function problems(objects: readonly KubeObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const json = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
    if (json['spec'] === undefined && json['specs'] === undefined) out.push(`${o.metadata.name}: spec or specs must be provided`);
    for (const [file, validate] of validators) {
      if (!validate(json)) out.push(`${o.metadata.name} (${file}): ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
  }
  return out;
}

describe('generated CiliumClusterwideNetworkPolicies validate against the CRD schema', () => {
  it('on every step of the conformance suite (IPv4 and IPv6)', () => {
    for (const family of [4, 6] as const) {
      for (const c of loadConformance(family)) for (const step of c.steps) expect(problems(translateCilium(step.snapshot).objects)).toEqual([]);
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
      fc.property(arb, ({ snapshot }: { snapshot: Snapshot }) => {
        expect(problems(translateCilium(snapshot).objects)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
