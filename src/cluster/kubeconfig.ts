import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  readonly name: string;
  readonly server: string;
  readonly caFile: string;
  readonly token: string;
}

/** An admin kubeconfig with the CA embedded, so it stays valid if copied elsewhere. */
export function writeKubeconfig(path: string, k: KubeconfigInput): void {
  const context = `cnp-${k.name}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: context, cluster: { server: k.server, 'certificate-authority-data': readFileSync(k.caFile).toString('base64') } },
    ],
    users: [{ name: `${context}-admin`, user: { token: k.token } }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin` } }],
    'current-context': context,
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
