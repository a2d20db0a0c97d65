import type { PodSet, Peer, Policy, PortMatch, Rule, Selector } from '../api/model.js';
import { selectorKey } from '../api/selector.js';

// Thousands of CNPs name the same selectors, peers, port lists and often whole rules. Parsed
// once each, they would each hold their own copies; shared, a policy costs little more than
// what is its own. Parts are held weakly: one no policy uses any more is collected, and its
// entry with it. Parsed policies are read-only everywhere, so sharing changes no behaviour.

export class PolicyInterner {
  private readonly parts = new Map<string, WeakRef<object>>();
  private readonly gone = new FinalizationRegistry<string>((key) => {
    if (this.parts.get(key)?.deref() === undefined) this.parts.delete(key);
  });

  private share<T extends object>(key: string, value: T): T {
    const hit = this.parts.get(key)?.deref();
    if (hit !== undefined) return hit as T;
    this.parts.set(key, new WeakRef(value));
    this.gone.register(value, key);
    return value;
  }

  /** How many distinct parts are shared now (for tests). */
  get size(): number {
    return this.parts.size;
  }

  policy(p: Policy): Policy {
    return { ...p, subject: this.podSet(p.subject), ingress: p.ingress.map((r) => this.rule(r)), egress: p.egress.map((r) => this.rule(r)) };
  }

  private selector(s: Selector): Selector {
    return this.share(`s:${selectorKey(s)}`, s);
  }

  private podSet(ps: PodSet): PodSet {
    const namespaces = this.selector(ps.namespaces);
    const pods = this.selector(ps.pods);
    return this.share(`ps:${selectorKey(namespaces)}|${selectorKey(pods)}`, { namespaces, pods });
  }

  private peerKey(p: Peer): string {
    switch (p.kind) {
      case 'pods':
        return `pods:${selectorKey(p.pods.namespaces)}|${selectorKey(p.pods.pods)}`;
      case 'nodes':
        return `nodes:${selectorKey(p.nodes)}`;
      case 'networks':
        return `networks:${p.cidrs.map((c) => c.text).join(',')}`;
      case 'domainNames':
        return `domains:${p.names.join(',')}`;
      case 'all':
        return 'all';
    }
  }

  private peer(p: Peer): Peer {
    const shared: Peer = p.kind === 'pods' ? { kind: 'pods', pods: this.podSet(p.pods) } : p.kind === 'nodes' ? { kind: 'nodes', nodes: this.selector(p.nodes) } : p;
    return this.share(`p:${this.peerKey(p)}`, shared);
  }

  private portsKey(ports: readonly PortMatch[]): string {
    return ports.map((p) => (p.kind === 'range' ? `${p.protocol}:${p.start}-${p.end}` : `named:${p.name}`)).join(',');
  }

  private rule(r: Rule): Rule {
    const peers = r.peers.map((p) => this.peer(p));
    const ports = r.ports === undefined ? undefined : this.share(`ports:${this.portsKey(r.ports)}`, r.ports);
    const key = `r:${r.index}|${r.name ?? ''}|${r.action}|${r.failClosed ?? ''}|${r.peers.map((p) => this.peerKey(p)).join(';')}|${ports === undefined ? '*' : this.portsKey(ports)}`;
    return this.share(key, { ...r, peers, ports });
  }
}
