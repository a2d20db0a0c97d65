import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const oursPath = join(repoRoot, 'crds', 'policy.networking.k8s.io_clusternetworkpolicies.yaml');
const upstreamPath = join(repoRoot, '..', 'shared', 'upstream', 'network-policy-api', 'crd', 'experimental',
  'policy.networking.k8s.io_clusternetworkpolicies.yaml');

type Schema = Record<string, unknown>;
interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: Schema };
  subresources?: Record<string, unknown>;
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
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

describe('the ClusterNetworkPolicy CRD', () => {
  const ours = load(oursPath);
  const upstream = load(upstreamPath);
  const upstreamFields = flatten(version(upstream, 'v1alpha2').schema.openAPIV3Schema);

  it('keeps upstream identity: group, names, short name, scope', () => {
    expect(ours.metadata.name).toBe(upstream.metadata.name);
    expect(ours.spec.group).toBe('policy.networking.k8s.io');
    expect(ours.spec.scope).toBe('Cluster');
    expect(ours.spec.names).toEqual(upstream.spec.names);
    expect(ours.spec.names['shortNames']).toEqual(['cnp']);
    expect(ours.metadata.annotations?.['policy.networking.k8s.io/channel']).toBe('experimental');
    expect(ours.metadata.annotations?.['policy.networking.k8s.io/bundle-version']).toBe('v0.2.0');
  });

  it('serves v1alpha2 (storage) and v1beta1 without a conversion webhook', () => {
    expect(ours.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([
      ['v1alpha2', true, true],
      ['v1beta1', true, false],
    ]);
    expect(ours.spec.conversion).toEqual({ strategy: 'None' });
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
        expect(rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['self.start < self.end', 'isCIDR(self)']));
      });

      it('has the status subresource and the printer columns', () => {
        expect(v.subresources).toEqual({ status: {} });
        expect(v.additionalPrinterColumns).toEqual([
          { name: 'Tier', type: 'string', jsonPath: '.spec.tier' },
          { name: 'Priority', type: 'integer', jsonPath: '.spec.priority' },
          { name: 'Programmed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Programmed")].status' },
          { name: 'Exact', type: 'string', jsonPath: '.status.conditions[?(@.type=="Exact")].status' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ]);
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
