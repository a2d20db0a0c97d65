import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/kube/config.js';

function kubeconfigFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cnp-kubeconfig-')), 'config');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'one', cluster: { server: 'https://one.example:6443' } },
        { name: 'two', cluster: { server: 'https://two.example:6443' } },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [
        { name: 'ctx-one', context: { cluster: 'one', user: 'u' } },
        { name: 'ctx-two', context: { cluster: 'two', user: 'u' } },
      ],
      'current-context': 'ctx-one',
    }),
  );
  return path;
}

describe('loadKubeConfig', () => {
  it('loads an explicit file and its current context', () => {
    expect(loadKubeConfig({ kubeconfig: kubeconfigFile() }).getCurrentCluster()?.server).toBe('https://one.example:6443');
  });

  it('switches to another context of the file', () => {
    expect(loadKubeConfig({ kubeconfig: kubeconfigFile(), context: 'ctx-two' }).getCurrentCluster()?.server).toBe('https://two.example:6443');
  });

  it('refuses a context the file does not have', () => {
    expect(() => loadKubeConfig({ kubeconfig: kubeconfigFile(), context: 'nope' })).toThrow('kubeconfig has no context named "nope"');
  });

  it('an explicit file wins over the in-cluster environment', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(loadKubeConfig({ kubeconfig: kubeconfigFile() }, env).getCurrentCluster()?.server).toBe('https://one.example:6443');
  });
});
