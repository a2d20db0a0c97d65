import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { networkPolicyApi, REPO } from '../support/paths.js';

const oursPath = join(REPO, 'crds', 'policy.networking.k8s.io_clusternetworkpolicies.yaml');
const upstreamPath = join(networkPolicyApi(), 'config', 'crd', 'experimental', 'policy.networking.k8s.io_clusternetworkpolicies.yaml');

type Schema = Record<string, unknown>;
interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: Schema };
  subresources?: Record<string, unknown>;
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
}
interface Crd {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    conversion?: { strategy: string };
    versions: Version[];
  };
}

const load = (path: string): Crd => parse(readFileSync(path, 'utf8')) as Crd;

/**
 * Flattens a schema into one entry per node, keyed by its property path, holding every
 * keyword of that node (type, enum, bounds, pattern, required, CEL rules, list types…).
 * Comparing these maps names the exact field that differs, which a deep equal would not.
 */
function flatten(schema: Schema, path = '', out = new Map<string, Record<string, unknown>>()): Map<string, Record<string, unknown>> {
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') {
      for (const [name, child] of Object.entries(value as Record<string, Schema>)) {
        flatten(child, path === '' ? name : `${path}.${name}`, out);
      }
    } else if (key === 'items') {
      flatten(value as Schema, `${path}[]`, out);
    } else if (key === 'additionalProperties' && typeof value === 'object' && value !== null) {
      flatten(value as Schema, `${path}{}`, out);
    } else {
      own[key] = value;
    }
  }
  out.set(path === '' ? '<root>' : path, own);
  return out;
}

function version(crd: Crd, name: string): Version {
  const v = crd.spec.versions.find((x) => x.name === name);
  if (v === undefined) throw new Error(`version ${name} missing`);
  return v;
}

/** What the project adds to upstream's CRD: printer columns for its status, and categories. */
const ADDED_COLUMNS = ['Programmed', 'Exact', 'Accepted', 'Reason', 'Subject'];

/** Ours without the additions: must equal upstream exactly. */
function withoutAdditions(crd: Crd): unknown {
  const copy = JSON.parse(JSON.stringify(crd)) as Crd;
  delete copy.spec.names['categories'];
  for (const v of copy.spec.versions) v.additionalPrinterColumns = v.additionalPrinterColumns?.filter((c) => !ADDED_COLUMNS.includes(c.name));
  return copy;
}

describe('the ClusterNetworkPolicy CRD', () => {
  const ours = load(oursPath);
  const upstream = load(upstreamPath);
  const upstreamFields = flatten(version(upstream, 'v1beta1').schema.openAPIV3Schema);

  it('is upstream v0.3.0 experimental, identical apart from the additions', () => {
    const { status: _status, ...expected } = upstream as Crd & { status?: unknown };
    expect(withoutAdditions(ours)).toEqual(expected);
  });

  it('keeps upstream identity: group, names, short name, scope, channel and bundle version', () => {
    expect(ours.metadata.name).toBe(upstream.metadata.name);
    expect(ours.spec.group).toBe('policy.networking.k8s.io');
    expect(ours.spec.scope).toBe('Cluster');
    expect({ ...ours.spec.names, categories: undefined }).toEqual({ ...upstream.spec.names, categories: undefined });
    expect(ours.spec.names['shortNames']).toEqual(['cnp']);
    expect(ours.spec.names['categories']).toEqual(['network-policy-api', 'ciliumpolicy']);
    expect(ours.metadata.annotations?.['policy.networking.k8s.io/channel']).toBe('experimental');
    expect(ours.metadata.annotations?.['policy.networking.k8s.io/bundle-version']).toBe('v0.3.0');
  });

  it('serves v1alpha2 and v1beta1 (storage) without a conversion webhook', () => {
    expect(ours.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([
      ['v1alpha2', true, false],
      ['v1beta1', true, true],
    ]);
    expect(ours.spec.conversion?.strategy ?? 'None').toBe('None');
  });

  for (const name of ['v1alpha2', 'v1beta1']) {
    describe(name, () => {
      const v = version(ours, name);
      const fields = flatten(v.schema.openAPIV3Schema);

      it('has exactly the upstream field paths', () => {
        expect([...fields.keys()].sort()).toEqual([...upstreamFields.keys()].sort());
      });

      it('matches upstream field by field (type, enum, bounds, pattern, required, CEL rules)', () => {
        for (const [path, expected] of upstreamFields) {
          expect({ path, ...fields.get(path) }).toEqual({ path, ...expected });
        }
      });

      it('carries the upstream CEL rules', () => {
        const rules = [...fields.values()].flatMap((f) => (f['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []);
        expect(rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['self.start < self.end', 'isCIDR(self) && cidr(self) == cidr(self).masked()']));
      });

      it('has the status subresource and the printer columns, the wide ones marked', () => {
        expect(v.subresources).toEqual({ status: {} });
        expect(v.additionalPrinterColumns?.map((c) => [c.name, c.priority ?? 0])).toEqual([
          ['Tier', 0], ['Priority', 0], ['Programmed', 0], ['Exact', 0], ['Accepted', 1], ['Reason', 1], ['Subject', 1], ['Age', 0],
        ]);
        expect(v.additionalPrinterColumns?.find((c) => c.name === 'Reason')?.jsonPath).toBe('.status.conditions[?(@.type=="Programmed")].reason');
      });
    });
  }

  it('flattening sees the nested rule fields (guards the comparison itself)', () => {
    expect(upstreamFields.get('spec.ingress[].protocols[].tcp.destinationPort.range')).toMatchObject({
      'x-kubernetes-validations': [{ rule: 'self.start < self.end', message: 'Start port must be less than End port' }],
    });
    expect(upstreamFields.get('spec.tier')).toMatchObject({ enum: ['Admin', 'Baseline'] });
    expect(upstreamFields.size).toBeGreaterThan(100);
  });
});
