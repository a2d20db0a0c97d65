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
    return { ...p, subject: this.podSet(p.subject)[0], ingress: p.ingress.map((r) => this.rule(r)), egress: p.egress.map((r) => this.rule(r)) };
  }

  // Each part's key is made once, on the way up: a rule's key is made of its peers' keys,
  // which are made of their selectors' (making them again was most of a cold start's interning).

  private selector(s: Selector): [Selector, string] {
    const key = selectorKey(s);
    return [this.share(`s:${key}`, s), key];
  }

  private podSet(ps: PodSet): [PodSet, string] {
    const [namespaces, nk] = this.selector(ps.namespaces);
    const [pods, pk] = this.selector(ps.pods);
    const key = `${nk}|${pk}`;
    return [this.share(`ps:${key}`, { namespaces, pods }), key];
  }

  private peer(p: Peer): [Peer, string] {
    let shared: Peer = p;
    let key: string;
    switch (p.kind) {
      case 'pods': {
        const [pods, k] = this.podSet(p.pods);
        shared = { kind: 'pods', pods };
        key = `pods:${k}`;
        break;
      }
      case 'nodes': {
        const [nodes, k] = this.selector(p.nodes);
        shared = { kind: 'nodes', nodes };
        key = `nodes:${k}`;
        break;
      }
      case 'networks':
        key = `networks:${p.cidrs.map((c) => c.text).join(',')}`;
        break;
      case 'domainNames':
        key = `domains:${p.names.join(',')}`;
        break;
      case 'all':
        key = 'all';
        break;
    }
    return [this.share(`p:${key}`, shared), key];
  }

  private portsKey(ports: readonly PortMatch[]): string {
    return ports.map((p) => (p.kind === 'range' ? `${p.protocol}:${p.start}-${p.end}` : `named:${p.name}`)).join(',');
  }

  private rule(r: Rule): Rule {
    const peers: Peer[] = [];
    const peerKeys: string[] = [];
    for (const p of r.peers) {
      const [peer, key] = this.peer(p);
      peers.push(peer);
      peerKeys.push(key);
    }
    const portsKey = r.ports === undefined ? '*' : this.portsKey(r.ports);
    const ports = r.ports === undefined ? undefined : this.share(`ports:${portsKey}`, r.ports);
    const key = `r:${r.index}|${r.name ?? ''}|${r.action}|${r.failClosed ?? ''}|${peerKeys.join(';')}|${portsKey}`;
    return this.share(key, { ...r, peers, ports });
  }
}
