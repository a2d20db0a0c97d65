import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { networkPolicyApi } from '../support/paths.js';
import { cli, positionOf } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'cnp-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const GOOD = `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: ok}
spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}]}]}
`;

const at = positionOf;

const TWO = `${GOOD}---\n${GOOD.replace('name: ok', 'name: two').replace('priority: 1, ', '')}`;
const DEEP = GOOD.replace('10.0.0.0/8', '10.0.0.0/99');
const TENANT = GOOD.replace('Admin', 'Tenant');

describe('bad input gets a clear error and a non-zero exit, never a stack trace', () => {
  // Positions are the offending field's line and column (a missing field: its parent's), not the document's number.
  const cases: [string, string[], string | undefined, RegExp][] = [
    ['broken YAML', ['validate', '-f', file('broken.yaml', 'a: [\n')], undefined, /broken\.yaml:2:1: not valid YAML: Flow sequence/],
    ['a document that is not an object', ['validate', '-f', file('scalar.yaml', '--- 42\n')], undefined, /scalar\.yaml:1:5: \(document\): must be a Kubernetes object/],
    ['a kind of the policy API that does not exist', ['validate', '-f', file('kind.yaml', 'apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicyy\nmetadata: {name: s}\n')], undefined, /kind\.yaml:2:1: kind: unsupported kind "ClusterNetworkPolicyy"/],
    ['only objects of kinds policy does not depend on', ['validate', '-f', file('secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n')], undefined, /note: skipped 1 object of kind Secret: [^\n]*\n.*nothing to validate/s],
    ['a wrong apiVersion', ['validate', '-f', file('api.yaml', GOOD.replace('v1alpha2', 'v1'))], undefined, /api\.yaml:1:1: apiVersion: must be one of policy\.networking\.k8s\.io\/v1alpha2/],
    ['a missing field, in the second document', ['validate', '-f', file('missing.yaml', TWO)], undefined, new RegExp(`missing\\.yaml:${at(TWO, 'spec', 1)}: spec\\.priority: is required \\(ClusterNetworkPolicy/two\\)`)],
    ['a field path deep in a rule', ['validate', '-f', file('deep.yaml', DEEP)], undefined, new RegExp(`deep\\.yaml:${at(DEEP, '10.0.0.0/99')}: spec\\.egress\\[0\\]\\.to\\[0\\]\\.networks\\[0\\]: Invalid CIDR format provided`)],
    ['stdin', ['validate', '-f', '-'], TENANT, new RegExp(`-:${at(TENANT, 'tier')}: spec\\.tier: must be one of "Admin", "Baseline"`)],
    ['a missing file', ['validate', '-f', join(dir, 'nope.yaml')], undefined, /nope\.yaml: no such file or directory/],
    ['no input', ['validate'], undefined, /no input: give -f FILE/],
    ['an unknown flag', ['validate', '--frobnicate'], undefined, /unknown flag --frobnicate/],
    ['an unknown command', ['frobnicate'], undefined, /unknown command "frobnicate"/],
    ['absurd sizes', ['validate', '-f', file('huge.yaml', `${GOOD.replace('[10.0.0.0/8]', `[${Array.from({ length: 30 }, (_, i) => `10.${i}.0.0/16`).join(', ')}]`)}`)], undefined, /networks: must have at most 25 items, got 30/],
    ['a deeply aliased YAML bomb', ['validate', '-f', file('bomb.yaml', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n`)], undefined, /bomb\.yaml:1:1: not usable YAML/],
    ['explain with an unknown pod', ['explain', '-f', file('ok.yaml', GOOD), '--from', 'a/x', '--to', '10.0.0.1', '--port', '80'], undefined, /--from: pod a\/x is not in the input/],
    ['explain with a bad port', ['explain', '-f', file('ok2.yaml', GOOD), '--from', '10.1.1.1', '--to', '10.0.0.1', '--port', '70000'], undefined, /--port: must be a port number between 1 and 65535/],
    ['explain with a bad flows file', ['explain', '-f', file('ok3.yaml', GOOD), '--flows', file('flows.json', '[{"from": "x", "to": "10.0.0.1", "port": 80}]')], undefined, /flows\.json: \[0\]\.from: "x" is neither NAMESPACE\/POD nor an IP address/],
  ];

  it.each(cases)('%s', (_name, args, input, message) => {
    const run = cli(args, input);
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBe(70); // internal error
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('valid input passes and says what it used, with the warnings the operator would write', () => {
    const run = cli(['validate', '-f', join(networkPolicyApi(), 'pkg', 'crdtest', 'testdata', 'valid')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('valid, 10 warnings (5 ClusterNetworkPolicies usable)\n');
    expect(run.stderr).toMatch(/cluster-wide-deny\.yaml:7:3: warning: spec\.priority: same tier and priority \(0\) as deny-with-named-ports/);
  });

  it('a CIDR with host bits is refused with the CRD\'s message and the network meant', () => {
    const run = cli(['validate', '-f', file('hostbits.yaml', GOOD.replace('10.0.0.0/8', '10.1.2.3/8'))]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/spec\.egress\[0\]\.to\[0\]\.networks\[0\]: Invalid CIDR format provided: "10\.1\.2\.3\/8" \(host bits are set; the network is 10\.0\.0\.0\/8\)/);
  });

  it('explain prints a readable trace for one flow', () => {
    const run = cli(['explain', '-f', file('ok4.yaml', GOOD), '--from', '192.0.2.1', '--to', '10.0.0.1', '--port', '80']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('192.0.2.1 -> 10.0.0.1 TCP/80: ALLOW');
    expect(run.stdout).toContain('the source is not a pod in the snapshot');
  });
});
