import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseDocuments } from '../../src/api/documents.js';
import { loadSnapshot } from '../../src/api/snapshot.js';
import { analysisWarnings } from '../../src/controller/conditions.js';
import { analyse } from '../../src/semantics/analysis.js';
import { cli, positionOf } from './run.js';

// `validate` as an admin uses it: the operator's analysis warnings, --strict, -o json, real
// positions in YAML and JSON, and directories read the way kubectl reads them.

const dir = mkdtempSync(join(tmpdir(), 'cnp-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const cnp = (name: string, priority: number, egress: unknown[], subject: unknown = { namespaces: {} }): Record<string, unknown> => ({
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec: { tier: 'Admin', priority, subject, egress },
});

// A rule behind one that matches all it would, and two policies tied in tier and priority.
const SHADOWED = [
  cnp('broad', 5, [{ name: 'deny-private', action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }] }]),
  cnp('narrow', 6, [{ name: 'allow-some', action: 'Accept', to: [{ networks: ['10.1.0.0/16'] }] }]),
  cnp('tie-a', 7, [{ action: 'Deny', to: [{ networks: ['192.0.2.0/24'] }] }]),
  cnp('tie-b', 7, [{ action: 'Deny', to: [{ networks: ['198.51.100.0/24'] }] }]),
];
const SHADOWED_TEXT = SHADOWED.map((o) => stringify(o)).join('---\n');
// Accepted by the API server, but this operator enforces the rule only in its fail-closed form.
const UNSUPPORTED_TEXT = stringify(cnp('deny-domains', 50, [{ action: 'Deny', to: [{ domainNames: ['example.com'] }] }]));

interface Entry {
  source: { file: string; document: number; line?: number; column?: number };
  kind: string | null;
  name: string | null;
  verdict: string;
  diagnostics: { severity: string; field: string; line?: number; column?: number; message: string }[];
}

describe('validate shows what the operator would put in Accepted', () => {
  it('prints the same analysis warnings as the Accepted condition, at the rule, and exits 0', () => {
    const path = file('shadowed.yaml', SHADOWED_TEXT);
    const run = cli(['validate', '-f', path]);
    expect(run.status).toBe(0);
    const { snapshot } = loadSnapshot(parseDocuments(SHADOWED_TEXT, path));
    const analysis = analyse(snapshot.policies);
    const expected = ['narrow', 'tie-a', 'tie-b'].flatMap((name) => analysisWarnings(analysis, name).map((w) => `${w} (ClusterNetworkPolicy/${name})`));
    expect(expected).toHaveLength(3);
    for (const w of expected) expect(run.stderr).toContain(w);
    // The shadowed rule is reported where it is written: narrow's egress[0].
    expect(run.stderr).toContain(`shadowed.yaml:${positionOf(SHADOWED_TEXT, 'name: allow-some')}: warning: spec.egress[0]: egress[0] "allow-some" can never match: egress[0] "deny-private" of broad matches all it would`);
    expect(run.stdout).toBe('valid, 3 warnings (4 ClusterNetworkPolicies usable)\n');
  });

  it('--strict fails on warnings', () => {
    const run = cli(['validate', '--strict', '-f', file('shadowed-strict.yaml', SHADOWED_TEXT)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^not valid under --strict: 3 warnings \(4 ClusterNetworkPolicies usable\)$/m);
  });

  it('parts the operator does not understand pass (the API server accepts them), and fail with --strict', () => {
    const path = file('unsupported.yaml', UNSUPPORTED_TEXT);
    const plain = cli(['validate', '-f', path]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toMatch(/unsupported: spec\.egress\[0\]: domainNames peers may only be used in Accept rules, got Deny; the rule fails closed/);
    expect(plain.stdout).toBe('valid, 1 unsupported (1 ClusterNetworkPolicy usable)\n');
    const strict = cli(['validate', '--strict', '-f', path]);
    expect(strict.status).toBe(1);
  });

  it('fails on input without objects', () => {
    for (const text of ['', '---\n', '# nothing\n']) {
      const run = cli(['validate', '-f', '-'], text);
      expect(run.status).toBe(1);
      expect(run.stderr).toBe('cnp-operator validate: the input holds no objects to validate\n');
    }
  });
});

describe('validate -o json', () => {
  it('has one entry per object, in input order, with verdicts and positioned diagnostics', () => {
    const text = [
      SHADOWED_TEXT,
      UNSUPPORTED_TEXT,
      stringify(cnp('broken', 1, [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }])),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n',
      '42\n',
    ].join('---\n');
    const path = file('mixed.yaml', text);
    const run = cli(['validate', '-o', 'json', '-f', path]);
    expect(run.status).toBe(1);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries.map((e) => [e.kind, e.name, e.verdict])).toEqual([
      ['ClusterNetworkPolicy', 'broad', 'valid'],
      ['ClusterNetworkPolicy', 'narrow', 'warning'],
      ['ClusterNetworkPolicy', 'tie-a', 'warning'],
      ['ClusterNetworkPolicy', 'tie-b', 'warning'],
      ['ClusterNetworkPolicy', 'deny-domains', 'unsupported'],
      ['ClusterNetworkPolicy', 'broken', 'invalid'],
      ['Deployment', 'shop/web', 'skipped'],
      [null, null, 'invalid'],
    ]);
    const broken = entries[5]!;
    expect(broken.source).toEqual({ file: path, document: 6, line: Number(positionOf(text, 'name: broken').split(':')[0]) - 3, column: 1 });
    const [line, column] = positionOf(text, '10.0.0.0/33').split(':').map(Number);
    expect(broken.diagnostics).toEqual([{ severity: 'error', field: 'spec.egress[0].to[0].networks[0]', line, column, message: expect.stringMatching(/^Invalid CIDR format provided/) as unknown as string }]);
    expect(entries[1]!.diagnostics[0]).toMatchObject({ severity: 'warning', field: 'spec.egress[0]' });
    expect(entries[7]!.diagnostics[0]).toMatchObject({ severity: 'error', field: '(document)' });
    expect(run.stderr).toBe(''); // with -o json everything is on standard output
  });
});

describe('validate reports the line and column of the field', () => {
  it('in JSON input as in YAML', () => {
    const json = JSON.stringify([cnp('j', 1, [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8', '10.0.0.0/99'] }] }])], null, 2);
    const run = cli(['validate', '-f', file('policy.json', json)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`policy.json:${positionOf(json, '"10.0.0.0/99"')}: spec.egress[0].to[0].networks[1]: Invalid CIDR format provided`);
  });

  it('deep inside a 1,000-item JSON List and a 1,000-document YAML stream, in text and -o json', () => {
    const pods = Array.from({ length: 1000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'ns', labels: { app: 'web' } as Record<string, string> },
      status: { podIPs: [{ ip: `10.0.${i >> 8}.${i & 255}` }] },
    }));
    pods[777]!.status.podIPs = [{ ip: '10.9.9.9' }, { ip: 'bad-777' }];
    pods[999]!.metadata.labels['bad key!'] = 'x';
    const items = [...pods, cnp('late', 1, [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }])];
    const at = (text: string, offset: number) => {
      const before = text.slice(0, offset).split('\n');
      return { line: before.length, column: before.at(-1)!.length + 1 };
    };
    const inputs = [
      // JSON: a list entry is placed at its first character, a key at its opening quote.
      { path: file('big.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)), json: true },
      { path: file('big.yaml', items.map((o) => stringify(o)).join('---\n')), json: false },
    ];
    for (const { path, json } of inputs) {
      const text = readFileSync(path, 'utf8');
      const q = (s: string) => (json ? JSON.stringify(s) : s);
      const item = at(text, json ? text.lastIndexOf('{', text.indexOf('"bad-777"')) : text.indexOf('ip: bad-777'));
      const label = at(text, text.indexOf(q('bad key!')));
      const network = at(text, text.indexOf(q('10.0.0.0/33')));
      const p777 = text.indexOf(json ? '"name": "p777"' : 'name: p777');
      const start = at(text, json ? text.lastIndexOf('{', text.lastIndexOf('"apiVersion"', p777)) : text.lastIndexOf('apiVersion', p777));

      const run = cli(['validate', '-f', path]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${path}:${item.line}:${item.column}: status.podIPs[1]: "bad-777" is not an IP address (Pod/ns/p777)\n`);
      expect(run.stderr).toContain(`${path}:${label.line}:${label.column}: metadata.labels["bad key!"]: `);
      expect(run.stderr).toContain(`${path}:${network.line}:${network.column}: spec.egress[0].to[0].networks[0]: Invalid CIDR format provided`);

      const entries = JSON.parse(cli(['validate', '-o', 'json', '-f', path]).stdout) as Entry[];
      expect(entries).toHaveLength(1001);
      expect(entries[777]!.source).toEqual({ file: path, document: json ? 1 : 778, ...start });
      expect(entries[777]!.diagnostics).toEqual([expect.objectContaining({ field: 'status.podIPs[1]', ...item })]);
      expect(entries[999]!.diagnostics).toEqual([expect.objectContaining({ field: 'metadata.labels["bad key!"]', ...label })]);
    }
  });

  it('for a label key that needs quoting, and in the items of a List', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { 'example.com/team': 'x y' } } }] };
    const text = stringify(list);
    const run = cli(['validate', '-f', file('list.yaml', text)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`list.yaml:${positionOf(text, 'example.com/team')}: metadata.labels["example.com/team"]: `);
  });

  it('for a missing field: its parent', () => {
    const text = stringify({ ...cnp('m', 1, []), spec: { tier: 'Admin', subject: { namespaces: {} } } });
    const run = cli(['validate', '-f', file('missing.yaml', text)]);
    expect(run.stderr).toContain(`missing.yaml:${positionOf(text, 'spec:')}: spec.priority: is required`);
  });
});

describe('validate -f DIRECTORY, as kubectl reads it', () => {
  it('passes on the README examples: the flows file and the AdminNetworkPolicies are skipped with a note', () => {
    const run = cli(['validate', '-f', 'docs/examples']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('note: docs/examples/flows.json: skipped: holds no Kubernetes object (no document has apiVersion and kind)\n');
    expect(run.stderr).toMatch(/note: skipped 2 objects of kind AdminNetworkPolicy: .*`cnp-operator convert`/);
    // The flows file is not counted; the three v1alpha1 objects are.
    expect(run.stdout).toMatch(/^valid \(.*\b5 Pods usable; 3 skipped\)\n$/);
  });

  it('a flows file named with -f is an error', () => {
    const run = cli(['validate', '-f', 'docs/examples/flows.json']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/flows\.json:2:3: kind: is required: a Kubernetes object has apiVersion and kind/);
  });

  it('reads subdirectories only with -R', () => {
    file('tree/top.yaml', stringify(cnp('top', 1, [])));
    file('tree/nested/bad.yaml', stringify(cnp('bad', 1, [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }])));
    const flat = cli(['validate', '-f', join(dir, 'tree')]);
    expect(flat.status).toBe(0);
    expect(flat.stdout).toBe('valid (1 ClusterNetworkPolicy usable)\n');
    for (const flag of ['-R', '--recursive']) {
      const deep = cli(['validate', flag, '-f', join(dir, 'tree')]);
      expect(deep.status).toBe(1);
      expect(deep.stderr).toContain('nested/bad.yaml:');
    }
  });

  it('a file in a directory that is not YAML stays an error', () => {
    file('junk/broken.yaml', 'a: [\n');
    const run = cli(['validate', '-f', join(dir, 'junk')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/broken\.yaml:2:1: not valid YAML/);
  });
});
