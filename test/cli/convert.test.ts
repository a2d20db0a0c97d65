import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { anpTopology, loadAnpConformance, replayStep } from '../support/anp-conformance.js';
import { cli, positionOf } from './run.js';

// `cnp-operator convert` as a user runs it, including the v0.1.1 AdminNetworkPolicy conformance
// suite: each step's v1alpha1 objects go through the command, and its output through the evaluator.

const dir = mkdtempSync(join(tmpdir(), 'cnp-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, objects: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
  return path;
}

const anp = (name: string, priority: number, from: unknown = { namespaces: { namespaceSelector: {} } }): Record<string, unknown> => ({
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name },
  spec: { priority, subject: { namespaces: {} }, ingress: [{ name: 'r', action: 'Allow', from: [from] }] },
});

describe('cnp-operator convert', () => {
  it('--help says what it maps and what it refuses', () => {
    const run = cli(['convert', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: cnp-operator convert -f FILE...');
    expect(run.stdout).toContain('Allow / Deny / Pass');
    expect(run.stdout).toContain('sameLabels/notSameLabels');
  });

  it('is listed among the commands', () => {
    expect(cli(['--help']).stdout).toMatch(/^ {2}convert +convert AdminNetworkPolicies/m);
  });

  it('prints YAML documents, or a List with -o json, and the output validates', () => {
    const yaml = cli(['convert', '-f', 'docs/examples/old-anp.yaml']);
    expect(yaml.stderr).toBe('');
    expect(yaml.status).toBe(0);
    expect(yaml.stdout.split(/^---$/m)).toHaveLength(3);
    const json = cli(['convert', '-f', 'docs/examples/old-anp.yaml', '-o', 'json']);
    expect(json.status).toBe(0);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string }; spec: { tier: string } }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => [i.metadata.name, i.spec.tier])).toEqual([
      ['allow-monitoring', 'Admin'],
      ['tenant-egress-guardrails', 'Admin'],
      ['default', 'Baseline'],
    ]);
    const check = cli(['validate', '-f', '-'], yaml.stdout);
    expect(check.stderr).toBe('');
    expect(check.stdout).toBe('valid (3 ClusterNetworkPolicies usable)\n');
    // The same input, the same bytes.
    expect(cli(['convert', '-f', 'docs/examples/old-anp.yaml']).stdout).toBe(yaml.stdout);
  });

  it('reads standard input and directories (-R accepted), and sets the Baseline priority on request', () => {
    const stdin = cli(['convert', '-f', '-', '-o', 'json', '--baseline-priority', '900'], readExample());
    expect(stdin.status).toBe(0);
    const items = (JSON.parse(stdin.stdout) as { items: { spec: { tier: string; priority: number } }[] }).items;
    expect(items.filter((i) => i.spec.tier === 'Baseline').map((i) => i.spec.priority)).toEqual([900]);
    const sub = join(dir, 'tree', 'nested');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'a.yaml'), stringify(anp('from-a-directory', 5)));
    const recursive = cli(['convert', '-R', '-f', join(dir, 'tree')]);
    expect(recursive.status).toBe(0);
    expect(recursive.stdout).toContain('name: from-a-directory');
  });

  it('refuses with file:line:column: field: reason (object), prints nothing, exits 1', () => {
    const path = file('refused.yaml', [anp('fine', 1), anp('tenancy', 2, { namespaces: { sameLabels: ['tenant'] } })]);
    const run = cli(['convert', '-f', path]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toMatch(
      new RegExp(`^${path.replace(/[.]/g, '\\.')}:${positionOf(readFileSync(path, 'utf8'), 'sameLabels')}: spec\\.ingress\\[0\\]\\.from\\[0\\]\\.namespaces\\.sameLabels: cannot be converted exactly: .* \\(AdminNetworkPolicy/tenancy\\)$`),
    );
    expect(run.stderr).toContain('cnp-operator convert: 1 object cannot be converted exactly; nothing was written\n');
  });

  it('notes equal priorities on standard error and still converts', () => {
    const path = file('tie.yaml', [anp('b', 3), anp('a', 3)]);
    const run = cli(['convert', '-f', path]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`tie.yaml:${positionOf(readFileSync(path, 'utf8'), 'priority')}: warning:`);
    expect(run.stderr).toMatch(/tie\.yaml:\d+:\d+: warning: spec\.priority: 3 is also the priority of AdminNetworkPolicy\/a; .* by name \(a, b\) \(AdminNetworkPolicy\/b\)\n/);
    expect(run.stdout).toContain('name: b');
  });

  it.each([
    [['convert'], /no input/],
    [['convert', '-f', 'docs/examples/old-anp.yaml', '-o', 'xml'], /flag -o must be one of yaml, json/],
    [['convert', '-f', 'docs/examples/old-anp.yaml', '--baseline-priority', '1001'], /--baseline-priority must be an integer from 0 to 1000/],
    [['convert', '-f', 'docs/examples/old-anp.yaml', '--baseline-priority', 'low'], /got "low"/],
    [['convert', '-f', 'docs/examples/old-anp.yaml', '--backend', 'calico'], /unknown flag --backend/],
    [['convert', 'docs/examples/old-anp.yaml'], /unexpected argument/],
  ])('usage error %j exits 2', (args, message) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('refuses other kinds in the input (exit 1)', () => {
    const run = cli(['convert', '-f', 'docs/examples/cluster.yaml']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/docs\/examples\/cluster\.yaml:4:1: kind: the string "Namespace" is not AdminNetworkPolicy or BaselineAdminNetworkPolicy/);
  });
});

function readExample(): string {
  return stringify(anp('from-stdin', 7)) + '---\n' + stringify({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' }, spec: { subject: { namespaces: {} } } });
}

describe('the v0.1.1 AdminNetworkPolicy conformance suite through `cnp-operator convert`', () => {
  const cases = loadAnpConformance();
  const topology = anpTopology(4);
  it('covers 230 probes', () => {
    expect(cases.flatMap((c) => c.steps.flatMap((s) => s.probes))).toHaveLength(230);
  });
  for (const c of cases) {
    it(c.name, () => {
      const failures: string[] = [];
      for (const step of c.steps) {
        const run = cli(['convert', '-f', file(`${c.name}-${step.step}.yaml`, step.policies), '-o', 'json']);
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        const items = (JSON.parse(run.stdout) as { items: unknown[] }).items;
        expect(items).toHaveLength(step.policies.length);
        failures.push(...replayStep(step, items, topology));
      }
      expect(failures).toEqual([]);
    });
  }
});
