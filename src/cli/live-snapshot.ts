import type { Document } from '../api/documents.js';
import { cnpType, NAMESPACE, NETWORK_POLICY, NODE, POD } from '../controller/inputs.js';
import { KubeApiError, type ResourceType } from '../controller/port.js';
import { preflight, StartupError } from '../controller/preflight.js';
import { createKubePort, loadKubeConfig } from '../kube/index.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

// Reads what policy depends on from a live cluster, read-only, as documents the offline
// commands already understand (so `explain`, `diff` and the rest give the same answers for a
// cluster as for the same objects exported with `kubectl get -o yaml`). Lists are paged.

export interface LiveOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** The RBAC a reader needs: list on these (config/rbac/reader.yaml grants exactly this). */
export const LIVE_KINDS = ['clusternetworkpolicies', 'networkpolicies', 'namespaces', 'pods', 'nodes'] as const;

const PAGE = 500;

/** Every ClusterNetworkPolicy, NetworkPolicy, Namespace, Pod and Node of the cluster. */
export async function readLiveDocuments(options: LiveOptions): Promise<Document[]> {
  let kc;
  try {
    kc = loadKubeConfig({ ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }), ...(options.context === undefined ? {} : { context: options.context }) });
  } catch (err) {
    throw new CliError(`cannot load a kubeconfig from ${options.kubeconfig ?? process.env['KUBECONFIG'] ?? '~/.kube/config'}: ${(err as Error).message}`, EXIT.noInput);
  }
  const port = createKubePort(kc);
  try {
    let version: string;
    try {
      ({ version } = await preflight(port, { server: port.server }));
    } catch (err) {
      if (err instanceof StartupError) throw new CliError(err.message, EXIT.noInput);
      throw err;
    }
    const types: ResourceType[] = [cnpType(version), NETWORK_POLICY, NAMESPACE, POD, NODE];
    const docs: Document[] = [];
    for (const type of types) {
      let items;
      try {
        ({ items } = await port.list(type, { limit: PAGE }));
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 403) {
          throw new CliError(`${port.server} forbids listing ${type.plural}: this needs list on ${LIVE_KINDS.join(', ')} (config/rbac/reader.yaml)`, EXIT.noInput);
        }
        throw err;
      }
      items.forEach((value, i) => docs.push({ source: { file: `${port.server}/${type.plural}`, document: i + 1 }, value }));
    }
    return docs;
  } finally {
    port.close();
  }
}
