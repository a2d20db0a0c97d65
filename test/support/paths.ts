import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Small upstream files kept in the repository (upstream/SOURCE.md says what and from where). */
export const UPSTREAM = join(REPO, 'upstream');
/** The digest of the network-policy-api v0.3.0 conformance suite (cases.json + states/). */
export const CONFORMANCE = join(UPSTREAM, 'conformance-v0.3.0');
/** Calico CRDs by version. */
export const CALICO_CRDS = join(UPSTREAM, 'calico');

const fetched = new Map<string, string>();

/**
 * An upstream module's files, fetched by pinned version through the Go module proxy into
 * ~/.cache/cnp-operator (hack/upstream.sh; instant once cached).
 */
export function upstreamModule(what: 'network-policy-api' | 'cilium', version?: string): string {
  const key = `${what}@${version ?? ''}`;
  let dir = fetched.get(key);
  if (dir === undefined) {
    const args = [join(REPO, 'hack', 'upstream.sh'), what, ...(version === undefined ? [] : [version])];
    dir = execFileSync('bash', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    fetched.set(key, dir);
  }
  return dir;
}

/** network-policy-api v0.3.0 (CRDs under config/crd, crdtest data under pkg/crdtest/testdata, …). */
export const networkPolicyApi = (): string => upstreamModule('network-policy-api');
/** Cilium's CRDs (ciliumclusterwidenetworkpolicies.yaml, ciliumnetworkpolicies.yaml, …) of a version. */
export const ciliumCrds = (version?: string): string => join(upstreamModule('cilium', version), 'pkg/k8s/apis/cilium.io/client/crds/v2');
