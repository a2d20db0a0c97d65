import type { Diagnostic } from '../api/diagnostics.js';
import { parseClusterNetworkPolicy } from '../api/cnp.js';
import type { Namespace, NetworkPolicy, Node, Pod, Policy, Snapshot } from '../api/model.js';
import { parseNamespace, parseNetworkPolicy, parseNode, parsePod } from '../api/objects.js';
import { type Condition, keep } from './conditions.js';
import { PolicyInterner } from './intern.js';
import { sharedStrings } from './strings.js';
import type { KubeObject } from './port.js';

export interface ParsedCnp {
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number;
  readonly policy: Policy | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ClusterInputs {
  /** Parsed as they arrived (see ParsedCnps): the cache keeps no spec. */
  readonly cnps: readonly ParsedCnp[];
  readonly networkPolicies: readonly KubeObject[];
  readonly nodes: readonly KubeObject[];
  readonly namespaces: readonly KubeObject[];
  readonly pods: readonly KubeObject[];
}

/**
 * What each cached object parsed to, by parser: an informer replaces an object when it changes,
 * so an unchanged one (most of 20,000 pods) is not parsed again for every snapshot.
 */
const parsedBy = new Map<unknown, WeakMap<KubeObject, { value: unknown }>>();

function collect<T>(objects: readonly KubeObject[], parse: (raw: unknown) => { value: T | undefined }): T[] {
  let parsed = parsedBy.get(parse);
  if (parsed === undefined) parsedBy.set(parse, (parsed = new WeakMap()));
  const out: T[] = [];
  for (const o of objects) {
    let p = parsed.get(o) as { value: T | undefined } | undefined;
    if (p === undefined) parsed.set(o, (p = { value: parse(o).value }));
    if (p.value !== undefined) out.push(p.value);
  }
  return out;
}

/**
 * CNPs parsed as they arrive, once per uid and generation. The CNP cache then keeps only what
 * status and events need (see slimCnp): the parsed model is the one copy of a policy held.
 */
export class ParsedCnps {
  private readonly byName = new Map<string, ParsedCnp>();
  private readonly interner = new PolicyInterner();

  /** Parses a CNP unless this uid and generation is already parsed. */
  ingest(obj: KubeObject): void {
    const generation = obj.metadata.generation ?? 0;
    const before = this.byName.get(obj.metadata.name);
    if (before !== undefined && before.generation === generation && before.uid === obj.metadata.uid) return;
    // The API server accepted it: a type we do not know comes from a newer API version.
    const result = parseClusterNetworkPolicy(obj, { origin: 'cluster' });
    const policy = result.policy === undefined ? undefined : this.interner.policy(result.policy);
    this.byName.set(obj.metadata.name, { name: obj.metadata.name, uid: obj.metadata.uid, generation, policy, diagnostics: result.diagnostics });
  }

  /** Forgets a deleted CNP (only that incarnation: a re-created one may have arrived first). */
  forget(obj: KubeObject): void {
    if (this.byName.get(obj.metadata.name)?.uid === obj.metadata.uid) this.byName.delete(obj.metadata.name);
  }

  /** After a relist: only these exist. */
  retain(names: ReadonlySet<string>): void {
    for (const name of [...this.byName.keys()]) if (!names.has(name)) this.byName.delete(name);
  }

  list(): ParsedCnp[] {
    return [...this.byName.values()];
  }
}

/** What the CNP cache keeps: identity for events, generation, and our conditions (messages as digests). */
export function slimCnp(obj: KubeObject, ours: readonly string[]): KubeObject {
  const { name, uid, generation, resourceVersion, creationTimestamp, deletionTimestamp } = obj.metadata;
  const conditions = ((obj['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter((c) => ours.includes(c.type)).map(keep);
  const s = sharedStrings;
  return { apiVersion: s.share(obj.apiVersion), kind: s.share(obj.kind), metadata: { name, uid, generation, resourceVersion, creationTimestamp: s.shareOptional(creationTimestamp), deletionTimestamp: s.shareOptional(deletionTimestamp) }, status: { conditions } };
}

/**
 * The snapshot the translators see. A CNP that fails validation is left out and
 * reported through its own status; everything else still works.
 */
export function buildSnapshot(inputs: ClusterInputs): Snapshot {
  return {
    policies: inputs.cnps.flatMap((p) => (p.policy === undefined ? [] : [p.policy])),
    networkPolicies: collect<NetworkPolicy>(inputs.networkPolicies, parseNetworkPolicy),
    nodes: collect<Node>(inputs.nodes, parseNode),
    namespaces: collect<Namespace>(inputs.namespaces, parseNamespace),
    pods: collect<Pod>(inputs.pods, parsePod),
  };
}
