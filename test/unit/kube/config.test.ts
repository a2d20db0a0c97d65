import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
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

describe('what a kubeconfig gives the transport', () => {
  const write = (doc: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'cnp-kubeconfig-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA FROM FILE');
    writeFileSync(join(dir, 'token'), 'token-one\n');
    const path = join(dir, 'config');
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  const config = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}) =>
    write({ clusters: [{ name: 'c', cluster: { server: 'https://api.example:6443', ...cluster } }], users: [{ name: 'u', user }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' });
  const apply = async (path: string) => {
    const options: import('node:https').RequestOptions = { headers: {} };
    await loadKubeConfig({ kubeconfig: path }).applyToHTTPSOptions(options);
    return options;
  };

  it('a bearer token, a CA from data or from a file relative to the kubeconfig, insecure and server name', async () => {
    const a = await apply(config({ token: 'abc' }, { 'certificate-authority-data': Buffer.from('CA DATA').toString('base64'), 'tls-server-name': 'kube' }));
    expect(a.headers).toMatchObject({ Authorization: 'Bearer abc' });
    expect(String(a.ca)).toBe('CA DATA');
    expect(a.servername).toBe('kube');
    const b = await apply(config({ tokenFile: 'token' }, { 'certificate-authority': 'ca.pem', 'insecure-skip-tls-verify': true }));
    expect(b.headers).toMatchObject({ Authorization: 'Bearer token-one' });
    expect(String(b.ca)).toBe('CA FROM FILE');
    expect(b.rejectUnauthorized).toBe(false);
  });

  it('re-reads a token file when it changes (rotated service-account tokens)', async () => {
    const path = config({ tokenFile: 'token' });
    const kc = loadKubeConfig({ kubeconfig: path });
    const first: import('node:https').RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(first);
    writeFileSync(join(path, '..', 'token'), 'token-two');
    // As the kubelet does when it rotates the token: the file changes, and so does its mtime.
    utimesSync(join(path, '..', 'token'), new Date(), new Date(Date.now() + 60_000));
    const second: import('node:https').RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(second);
    expect(first.headers).toMatchObject({ Authorization: 'Bearer token-one' });
    expect(second.headers).toMatchObject({ Authorization: 'Bearer token-two' });
  });

  it('client certificates, and basic auth', async () => {
    const c = await apply(config({ 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') }));
    expect([String(c.cert), String(c.key)]).toEqual(['CERT', 'KEY']);
    const d = await apply(config({ username: 'me', password: 'pw' }));
    expect(d.headers).toMatchObject({ Authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` });
  });

  it('an exec plugin runs through client-node, loaded only then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnp-exec-'));
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`, { mode: 0o755 });
    const e = await apply(config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } }));
    expect(e.headers).toMatchObject({ Authorization: 'Bearer from-exec' });
  });

  it('says which part of the file is missing', () => {
    const path = write({ clusters: [], users: [], contexts: [{ name: 'x', context: { cluster: 'gone', user: 'u' } }], 'current-context': 'x' });
    expect(() => loadKubeConfig({ kubeconfig: path })).toThrow('context "x" names cluster "gone", which the kubeconfig does not have');
  });
});
