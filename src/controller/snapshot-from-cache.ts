import type { Diagnostic } from '../api/diagnostics.js';
import { parseClusterNetworkPolicy } from '../api/cnp.js';
import type { Namespace, NetworkPolicy, Node, Pod, Policy, Snapshot } from '../api/model.js';
import { parseNamespace, parseNetworkPolicy, parseNode, parsePod } from '../api/objects.js';
import type { KubeObject } from './port.js';

export interface ParsedCnp {
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number;
  readonly policy: Policy | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ClusterInputs {
  readonly cnps: readonly KubeObject[];
  readonly networkPolicies: readonly KubeObject[];
  readonly nodes: readonly KubeObject[];
  readonly namespaces: readonly KubeObject[];
  readonly pods: readonly KubeObject[];
}

function collect<T>(objects: readonly KubeObject[], parse: (raw: unknown) => { value: T | undefined }): T[] {
  return objects.flatMap((o) => {
    const v = parse(o).value;
    return v === undefined ? [] : [v];
  });
}

/**
 * The snapshot the translators see. A CNP that fails validation is left out and
 * reported through its own status; everything else still works.
 */
export function buildSnapshot(inputs: ClusterInputs, previous?: ReadonlyMap<string, ParsedCnp>): { snapshot: Snapshot; parsed: Map<string, ParsedCnp> } {
  const parsed = new Map<string, ParsedCnp>();
  for (const obj of inputs.cnps) {
    // A CNP's spec changes only with its generation (and uid, if it was re-created): reuse the last parse.
    const generation = obj.metadata.generation ?? 0;
    const before = previous?.get(obj.metadata.name);
    if (before !== undefined && before.generation === generation && before.uid === obj.metadata.uid) {
      parsed.set(obj.metadata.name, before);
      continue;
    }
    // Objects from the API server may carry the served version; our schema is one for both.
    // The API server accepted it: a type we do not know comes from a newer API version.
    const result = parseClusterNetworkPolicy(obj, { origin: 'cluster' });
    parsed.set(obj.metadata.name, { name: obj.metadata.name, uid: obj.metadata.uid, generation, policy: result.policy, diagnostics: result.diagnostics });
  }
  const policies = [...parsed.values()].flatMap((p) => (p.policy === undefined ? [] : [p.policy]));
  const snapshot: Snapshot = {
    policies,
    networkPolicies: collect<NetworkPolicy>(inputs.networkPolicies, parseNetworkPolicy),
    nodes: collect<Node>(inputs.nodes, parseNode),
    namespaces: collect<Namespace>(inputs.namespaces, parseNamespace),
    pods: collect<Pod>(inputs.pods, parsePod),
  };
  return { snapshot, parsed };
}
