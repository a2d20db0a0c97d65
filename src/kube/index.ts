// The only entry to @kubernetes/client-node (loaded only for exec plugins and auth providers):
// the rest of the operator sees a KubePort.

/** Loads a kubeconfig: explicit file, in-cluster service account, or KUBECONFIG/~/.kube/config. */
export { loadKubeConfig, type KubeAccess, type KubeConfigSource } from './config.js';
/** The KubePort over one keep-alive connection pool. */
export { createKubePort, type KubeConnection, type KubePortOptions } from './kube-port.js';
