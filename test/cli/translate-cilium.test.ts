import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../../src/api/documents.js';
import { loadSnapshot } from '../../src/api/snapshot.js';
import { translateCilium } from '../../src/translate/cilium/index.js';
import { stringify } from 'yaml';
import { clusterObjects, loadConformance, stateText } from '../support/conformance.js';
import { cli } from './run.js';

// translate --backend cilium with the agent's settings: as flags, or from a cilium-config
// ConfigMap as kubectl prints it; the output is the library's for the same settings.

const step = loadConformance(4).find((c) => c.name === 'CNPAdminTierEgressNodePeers')!.steps[0]!;
const dir = mkdtempSync(join(tmpdir(), 'cnp-translate-'));
const input = join(dir, 'input.yaml');
// The suite's policy (its nodes peers select every node) and one whose nodes peer selects one node.
const controlPlane = {
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'to-control-plane' },
  spec: {
    tier: 'Admin',
    priority: 5,
    subject: { namespaces: {} },
    egress: [{ name: 'deny-control-plane', action: 'Deny', to: [{ nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }] }],
  },
};
const text = [stateText(step), stringify(controlPlane), ...clusterObjects(step.snapshot).map((o) => stringify(o))].join('\n---\n');
writeFileSync(input, text);

/** The objects' names and specs (what the settings change). */
function objects(args: string[]): { items: unknown[]; stderr: string } {
  const r = cli(['translate', '--backend', 'cilium', '-f', input, '-o', 'json', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return { items: specsOf((JSON.parse(r.stdout) as { items: object[] }).items), stderr: r.stderr };
}

function specsOf(items: readonly object[]): unknown[] {
  return items.map((o) => [(o as { metadata: { name: string } }).metadata.name, (o as { specs?: unknown }).specs]);
}

describe('translate --backend cilium with agent settings', () => {
  it('writes no toNodes unless told that node selector labels work, and reports the nodes peers instead', () => {
    const plain = objects([]);
    expect(JSON.stringify(plain.items)).not.toContain('toNodes');
    expect(plain.stderr).toContain('enable-node-selector-labels is off');
    const nsl = objects(['--cilium-node-selector-labels', '--cilium-version', '1.19']);
    expect(JSON.stringify(nsl.items)).toContain('toNodes');
    expect(objects(['--cilium-node-selector-labels=false', '--cilium-version', '1.19']).items).toEqual(plain.items);
  });

  it('takes cilium-config as kubectl prints it, flags overriding single settings; same output as the library', () => {
    const config = join(dir, 'cilium-config.yaml');
    writeFileSync(
      config,
      ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: cilium-config, namespace: kube-system}', 'data:', '  enable-node-selector-labels: "true"', '  policy-cidr-match-mode: "pods nodes"', '  labels: "k8s:conformance-house"', ''].join('\n'),
    );
    const fromFile = objects(['--cilium-config', config, '--cilium-version', '1.20']);
    const agent = { version: 20, nodeSelectorLabels: true, cidrMatchMode: ['pods', 'nodes'], labels: ['k8s:conformance-house'], nodeLabels: [] } as const;
    expect(fromFile.items).toEqual(specsOf(JSON.parse(JSON.stringify(translateCilium(loadSnapshot(parseDocuments(text, 'input.yaml')).snapshot, { agent }).objects)) as object[]));
    const flags = objects(['--cilium-version', '1.20', '--cilium-node-selector-labels', '--cilium-cidr-match-mode', 'pods,nodes', '--cilium-labels', 'k8s:conformance-house']);
    expect(flags.items).toEqual(fromFile.items);
    expect(objects(['--cilium-config', config, '--cilium-version', '1.20', '--cilium-cidr-match-mode', 'nodes']).items).not.toEqual(fromFile.items);
  });

  it('refuses settings it cannot use, with exit 2', () => {
    for (const args of [['--cilium-version', '1.15'], ['--cilium-cidr-match-mode', 'pods,world'], ['--cilium-node-selector-labels=yes']]) {
      const r = cli(['translate', '--backend', 'cilium', '-f', input, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/cilium-(version|cidr-match-mode|node-selector-labels)/);
    }
    expect(cli(['translate', '--backend', 'calico', '-f', input, '--cilium-labels', 'k8s:app']).status).toBe(2);
  });
});
