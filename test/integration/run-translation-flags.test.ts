import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli } from '../cli/run.js';
import { kube, type KubeObject, kubeconfig, uniqueName, waitFor } from '../harness/index.js';
import { REPO } from '../support/paths.js';
import { setCalicoVersion } from './operator.js';

// translate and run take the same translation flags: what `translate --admin-tier T` prints for a
// CNP is what `run --admin-tier T` writes for it.

const GNP = 'projectcalico.org/v3';
const id = uniqueName('tf').slice(3);
const tier = `platform-${id}`;
const name = uniqueName('tiered');
const dir = mkdtempSync(join(tmpdir(), 'cnp-translation-flags-'));
const policy: KubeObject = {
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec: { tier: 'Admin', priority: 44, subject: { namespaces: { matchLabels: { app: id } } }, egress: [{ name: 'no-metadata', action: 'Deny', to: [{ networks: ['169.254.169.254/32'] }] }] },
};

let child: ChildProcess | undefined;

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await kube().delete(policy.apiVersion, 'ClusterNetworkPolicy', name);
  // What run wrote into the tier of this test only; the tier itself last.
  for (const gnp of await kube().list(GNP, 'GlobalNetworkPolicy')) {
    if ((gnp['spec'] as { tier?: string } | undefined)?.tier === tier) await kube().delete(GNP, 'GlobalNetworkPolicy', gnp.metadata.name);
  }
  await kube().delete(GNP, 'Tier', tier);
  rmSync(dir, { recursive: true, force: true });
});

describe('run and translate share the translation flags', () => {
  it('run --admin-tier writes the CNP into that tier, as translate --admin-tier prints it', async () => {
    await setCalicoVersion('v3.31.0');
    await kube().create(policy);
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, stringify(policy));
    const printed = cli(['translate', '--backend', 'calico', '--admin-tier', tier, '-f', file, '-o', 'json']);
    expect(printed.status, printed.stderr).toBe(0);
    const items = (JSON.parse(printed.stdout) as { items: KubeObject[] }).items;
    const want = items.find((o) => o.kind === 'GlobalNetworkPolicy')!;
    expect(want.metadata.name).toBe(`${tier}.${name}`);

    let log = '';
    child = spawn(process.execPath, [join(REPO, 'bin', 'cnp-operator'), 'run', '--kubeconfig', kubeconfig(), '--leader-elect=false', '--health-port', '0', '--metrics-port', '-1', '--backend', 'calico', '--calico-api', GNP, '--admin-tier', tier], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const written = await waitFor(() => kube().get(GNP, 'GlobalNetworkPolicy', want.metadata.name), { timeout: 60_000, message: `the GlobalNetworkPolicy in tier ${tier} (log:\n${log})` });
    expect(await kube().get(GNP, 'Tier', tier)).toBeDefined();
    // The rules and selector are the CNP's alone; the order depends on the cluster's other CNPs.
    const { order: _a, ...wantSpec } = want['spec'] as Record<string, unknown>;
    const { order: _b, ...writtenSpec } = written['spec'] as Record<string, unknown>;
    expect(writtenSpec).toEqual(wantSpec);
  });
});
