import { cidrContains, type Ip } from '../api/ip.js';
import type { Cidr, Namespace, Node, Pod, PodSet, Selector } from '../api/model.js';
import { selectorKey, selectorMatches } from '../api/selector.js';

// The questions a policy can ask about one pod, as the reference evaluator asks them
// (evaluate.ts). Everything the evaluator learns about a pod, as a subject or as the other end
// of a flow, is the answer to one of these "atoms", plus the pod's named ports and its
// host-network flag. Two pods that answer every atom of both snapshots alike are therefore
// indistinguishable to every policy: that is what makes a pod class (classes.ts).

export type Atom =
  /** `inPodSet`: a CNP subject, a CNP `pods`/`namespaces` peer, a NetworkPolicy peer with a namespaceSelector. */
  | { readonly kind: 'podSet'; readonly set: PodSet }
  /** A NetworkPolicy selecting the pod as its subject (`isolating` in evaluate.ts). */
  | { readonly kind: 'npSubject'; readonly namespace: string; readonly pods: Selector }
  /** A NetworkPolicy peer without namespaceSelector: pods of the policy's own namespace. */
  | { readonly kind: 'npLocalPeer'; readonly namespace: string; readonly pods: Selector }
  /** A CNP `nodes` peer: the pod's address is one of a selected node's. */
  | { readonly kind: 'nodes'; readonly nodes: Selector }
  /** A CNP `networks` peer: the pod's address is in one of the CIDRs. */
  | { readonly kind: 'cidrs'; readonly cidrs: readonly Cidr[] }
  /** A NetworkPolicy `ipBlock` peer. */
  | { readonly kind: 'ipBlock'; readonly cidr: Cidr; readonly except: readonly Cidr[] };

/** What an atom may look at: the pod, its namespace object, its address and the nodes that own that address. */
export interface PodView {
  readonly pod: Pod;
  readonly namespace: Namespace | undefined;
  /** The address flows use (the pod's first IP), as ClusterIndex.resolve gives it. */
  readonly ip: Ip | undefined;
  /** Nodes one of whose addresses is `ip`. */
  readonly nodes: readonly Node[];
}

/** Whether an atom depends on the pod's address (the rest depend on labels and namespace only). */
export function isAddressAtom(atom: Atom): boolean {
  return atom.kind === 'nodes' || atom.kind === 'cidrs' || atom.kind === 'ipBlock';
}

/** Each atom's answer, written exactly as evaluate.ts and cluster.ts decide it. */
export function atomHolds(atom: Atom, v: PodView): boolean {
  switch (atom.kind) {
    case 'podSet':
      // ClusterIndex.inPodSet (host-network pods are never in a pod set).
      return !v.pod.hostNetwork && v.namespace !== undefined && selectorMatches(atom.set.namespaces, v.namespace.labels) && selectorMatches(atom.set.pods, v.pod.labels);
    case 'npSubject':
      return v.pod.namespace === atom.namespace && selectorMatches(atom.pods, v.pod.labels);
    case 'npLocalPeer':
      // npPeerMatches without namespaceSelector: a policy pod, its namespace known, in the policy's namespace.
      return !v.pod.hostNetwork && v.namespace !== undefined && v.pod.namespace === atom.namespace && selectorMatches(atom.pods, v.pod.labels);
    case 'nodes':
      return v.ip !== undefined && v.nodes.some((n) => selectorMatches(atom.nodes, n.labels));
    case 'cidrs': {
      const ip = v.ip;
      return ip !== undefined && atom.cidrs.some((c) => cidrContains(c, ip));
    }
    case 'ipBlock': {
      const ip = v.ip;
      return ip !== undefined && cidrContains(atom.cidr, ip) && !atom.except.some((e) => cidrContains(e, ip));
    }
  }
}

function atomKey(atom: Atom): string {
  switch (atom.kind) {
    case 'podSet':
      return `podSet ${selectorKey(atom.set.namespaces)} ${selectorKey(atom.set.pods)}`;
    case 'npSubject':
    case 'npLocalPeer':
      return `${atom.kind} ${atom.namespace} ${selectorKey(atom.pods)}`;
    case 'nodes':
      return `nodes ${selectorKey(atom.nodes)}`;
    case 'cidrs':
      // `some` over the list: order and repetition do not matter.
      return `cidrs ${[...new Set(atom.cidrs.map((c) => c.text))].sort().join(',')}`;
    case 'ipBlock':
      return `ipBlock ${atom.cidr.text} ${[...new Set(atom.except.map((c) => c.text))].sort().join(',')}`;
  }
}

/** Atoms numbered once for both snapshots, so one question has one number on both sides. */
export class AtomTable {
  readonly atoms: Atom[] = [];
  private readonly ids = new Map<string, number>();

  intern(atom: Atom): number {
    const key = atomKey(atom);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.atoms.length;
      this.atoms.push(atom);
      this.ids.set(key, id);
    }
    return id;
  }

  get size(): number {
    return this.atoms.length;
  }
}
