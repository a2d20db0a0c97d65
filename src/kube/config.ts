import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the service account's token lives in a pod; its presence (with the service env) means "in a cluster". */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  /** A kubeconfig file; wins over everything else. */
  readonly kubeconfig?: string;
  /** A context of that kubeconfig other than its current one. */
  readonly context?: string;
}

/**
 * Loads API access the way controller-runtime does: an explicit kubeconfig file first,
 * then the pod's service account when running in a cluster, then KUBECONFIG or ~/.kube/config.
 * Throws when nothing usable is found or the context does not exist.
 */
export function loadKubeConfig(source: KubeConfigSource = {}, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
  else if (runsInCluster(env)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (source.context !== undefined) {
    if (!kc.getContextObject(source.context)) throw new Error(`kubeconfig has no context named "${source.context}"`);
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes API configured: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
  }
  return kc;
}

function runsInCluster(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) && existsSync(SERVICE_ACCOUNT_TOKEN);
}
