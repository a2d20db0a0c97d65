// The only entry to @kubernetes/client-node: the rest of the operator sees a KubePort.

/** Loads a kubeconfig: explicit file, in-cluster service account, or KUBECONFIG/~/.kube/config. */
export { loadKubeConfig, type KubeConfigSource } from './config.js';
/** The KubePort over one keep-alive connection pool. */
export { createKubePort, type KubeConnection, type KubePortOptions } from './kube-port.js';
