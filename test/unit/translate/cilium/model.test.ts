import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../src/api/model.js';
import type { Flow } from '../../../../src/semantics/flow.js';
import { CiliumModel, type CiliumModelConfig } from '../../../models/cilium/model.js';
import { CLUSTER, snapshotOf } from './fixtures.js';

// The Cilium model against the behaviour reference/cilium.md documents (§3–§5): the model is
// the yardstick of the translation, so it is checked on its own first.

const cluster: Snapshot = snapshotOf(CLUSTER);
const withNp = (yaml: string): Snapshot => snapshotOf(`${CLUSTER}\n---\n${yaml}`);

function ccnp(spec: object): object {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'p' }, specs: [spec] };
}

const pod = (ns: string, name: string) => ({ kind: 'pod', namespace: ns, name }) as const;
const ip = (address: string) => ({ kind: 'ip', ip: address }) as const;
const flow = (from: Flow['from'], to: Flow['to'], port: number, protocol: Flow['protocol'] = 'TCP'): Flow => ({ from, to, port, protocol });

function verdict(objects: object[], f: Flow, snapshot = cluster, config: Partial<CiliumModelConfig> = {}): 'allow' | 'deny' {
  return new CiliumModel(objects, snapshot, config).evaluate(f).verdict;
}

const WEB0 = pod('a', 'web-0'); // node n1, http=8080/TCP, dns=53/UDP
const WEB1 = pod('a', 'web-1'); // node n2, http=8081/TCP
const DB0 = pod('b', 'db-0'); // node n2, sql=5432/TCP
const AGENT = pod('b', 'agent'); // host network on n1
const db = { matchLabels: { 'k8s:app': 'db' } };
const web = { matchLabels: { 'k8s:app': 'web' } };

describe('Cilium model', () => {
  it('deny.rst table: a deny on (peer, port) wins over any allow; a deny-only policy isolates', () => {
    const allow = { endpointSelector: db, ingress: [{ fromEndpoints: [web], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }, { port: '81', protocol: 'TCP' }] }] }, { fromEndpoints: [web] }] };
    const denyPort = { endpointSelector: db, ingressDeny: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] };
    const denyPeer = { endpointSelector: db, ingressDeny: [{ fromEndpoints: [web] }] };
    const cases: [object[], 'allow' | 'deny', 'allow' | 'deny'][] = [
      [[ccnp(allow)], 'allow', 'allow'], // A
      [[ccnp(allow), ccnp(denyPort)], 'allow', 'deny'], // B
      [[ccnp(allow), ccnp(denyPeer)], 'deny', 'deny'], // C
      [[ccnp(allow), ccnp(denyPort), ccnp(denyPeer)], 'deny', 'deny'], // D
      [[ccnp(denyPort)], 'deny', 'deny'], // E: default deny, nothing allowed
    ];
    for (const [objects, at81, at80] of cases) {
      expect(verdict(objects, flow(WEB0, DB0, 81))).toBe(at81);
      expect(verdict(objects, flow(WEB0, DB0, 80))).toBe(at80);
    }
  });

  it('enableDefaultDeny false keeps a selecting policy from isolating, unless non-default-deny policies are off', () => {
    const spec = { endpointSelector: db, ingressDeny: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }], enableDefaultDeny: { ingress: false, egress: false } };
    expect(verdict([ccnp(spec)], flow(WEB0, DB0, 81))).toBe('allow');
    expect(verdict([ccnp(spec)], flow(WEB0, DB0, 80))).toBe('deny');
    expect(verdict([ccnp(spec)], flow(WEB0, DB0, 81), cluster, { nonDefaultDenyPolicies: false })).toBe('deny');
  });

  it('a NetworkPolicy isolates its pods; its ipBlocks only match outside the cluster', () => {
    const s = withNp(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: b}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]`);
    expect(verdict([], flow(WEB0, DB0, 80), s)).toBe('deny');
    expect(verdict([], flow(ip('192.0.2.1'), DB0, 80), s)).toBe('allow');
    // A CCNP allow is a union with the NetworkPolicy's.
    const allow = { endpointSelector: db, ingress: [{ fromEndpoints: [web] }], enableDefaultDeny: { ingress: false, egress: false } };
    expect(verdict([ccnp(allow)], flow(WEB0, DB0, 80), s)).toBe('allow');
  });

  it('peer selectors without a namespace key only match pods; CIDRs only match outside the cluster', () => {
    const spec = (rule: object) => ({ endpointSelector: web, egressDeny: [rule], enableDefaultDeny: { ingress: false, egress: false } });
    const anyPod = ccnp(spec({ toEndpoints: [{}] }));
    expect(verdict([anyPod], flow(WEB0, DB0, 80))).toBe('deny');
    expect(verdict([anyPod], flow(WEB0, ip('192.0.2.1'), 80))).toBe('allow');
    expect(verdict([anyPod], flow(WEB0, ip('172.18.0.3'), 80))).toBe('allow');
    const cidr = ccnp(spec({ toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['192.0.2.0/24'] }] }));
    expect(verdict([cidr], flow(WEB0, DB0, 80))).toBe('allow');
    expect(verdict([cidr], flow(WEB0, ip('172.18.0.3'), 80))).toBe('allow');
    expect(verdict([cidr], flow(WEB0, ip('192.0.2.1'), 80))).toBe('allow');
    expect(verdict([cidr], flow(WEB0, ip('198.51.100.1'), 80))).toBe('deny');
    const cluster_ = ccnp(spec({ toEntities: ['cluster'] }));
    expect(verdict([cluster_], flow(WEB0, ip('172.18.0.3'), 80))).toBe('deny');
    expect(verdict([cluster_], flow(WEB0, ip('198.51.100.1'), 80))).toBe('allow');
  });

  it('nodes: host on the same node (host-network pods included), remote-node elsewhere; toNodes only matches remote nodes', () => {
    const spec = (rule: object) => ({ endpointSelector: web, egressDeny: [rule], enableDefaultDeny: { ingress: false, egress: false } });
    const toNodes = ccnp(spec({ toNodes: [{ matchLabels: { zone: 'z1' } }, { matchLabels: { zone: 'z2' } }] }));
    const nsl = { nodeSelectorLabels: true };
    expect(verdict([toNodes], flow(WEB0, ip('172.18.0.2'), 80), cluster, nsl)).toBe('allow'); // web-0 runs on n1: its own node
    expect(verdict([toNodes], flow(WEB1, ip('172.18.0.2'), 80), cluster, nsl)).toBe('deny');
    expect(verdict([toNodes], flow(WEB1, AGENT, 80), cluster, nsl)).toBe('deny');
    const host = ccnp(spec({ toEntities: ['host'] }));
    expect(verdict([host], flow(WEB0, AGENT, 80))).toBe('deny');
    expect(verdict([host], flow(WEB1, AGENT, 80))).toBe('allow');
    // Node labels the node-labels filter drops never match.
    const filtered = ccnp(spec({ toNodes: [{ matchLabels: { zone: 'z1' } }] }));
    expect(verdict([filtered], flow(WEB1, ip('172.18.0.2'), 80), cluster, { ...nsl, nodeLabels: ['kubernetes.io/hostname'] })).toBe('allow');
    // Without enable-node-selector-labels the agent refuses the whole object: its other rules are lost too.
    const both = ccnp({ endpointSelector: web, egressDeny: [{ toNodes: [{ matchLabels: { zone: 'z1' } }] }, { toEntities: ['host'] }] });
    expect(new CiliumModel([both], cluster).rejected.map((r) => r.name)).toEqual(['p']);
    expect(verdict([both], flow(WEB0, AGENT, 80))).toBe('allow');
    expect(verdict([both], flow(WEB0, AGENT, 80), cluster, nsl)).toBe('deny');
  });

  it('CIDRs reach pods and nodes by address only as policy-cidr-match-mode says; /0 only with pods', () => {
    const deny = (cidr: string) => ccnp({ endpointSelector: web, egressDeny: [{ toCIDRSet: [{ cidr }] }], enableDefaultDeny: { ingress: false, egress: false } });
    expect(verdict([deny('10.0.0.0/8')], flow(WEB0, DB0, 80))).toBe('allow');
    expect(verdict([deny('10.0.0.0/8')], flow(WEB0, DB0, 80), cluster, { release: '1.20', cidrMatchMode: ['pods'] })).toBe('deny');
    expect(verdict([deny('172.16.0.0/12')], flow(WEB0, AGENT, 80), cluster, { release: '1.20', cidrMatchMode: ['pods'] })).toBe('allow');
    expect(verdict([deny('172.16.0.0/12')], flow(WEB0, AGENT, 80), cluster, { cidrMatchMode: ['nodes'] })).toBe('deny');
    // 0.0.0.0/0 is the world label to Cilium: only mode pods lets it match what has an address.
    expect(verdict([deny('0.0.0.0/0')], flow(WEB0, AGENT, 80), cluster, { cidrMatchMode: ['nodes'] })).toBe('allow');
    expect(verdict([deny('0.0.0.0/0')], flow(WEB0, AGENT, 80), cluster, { release: '1.20', cidrMatchMode: ['pods', 'nodes'] })).toBe('deny');
  });

  it('identities leave out filtered labels: a selector on pod-template-hash never matches', () => {
    const spec = { endpointSelector: db, ingressDeny: [{ fromEndpoints: [{ matchLabels: { 'k8s:pod-template-hash': 'h1' } }] }], enableDefaultDeny: { ingress: false, egress: false } };
    expect(verdict([ccnp(spec)], flow(WEB0, DB0, 80))).toBe('allow');
    // An allow-list in cilium-config `labels` leaves out everything else.
    const byApp = { endpointSelector: db, ingressDeny: [{ fromEndpoints: [web] }], enableDefaultDeny: { ingress: false, egress: false } };
    expect(verdict([ccnp(byApp)], flow(WEB0, DB0, 80))).toBe('deny');
    expect(verdict([ccnp(byApp)], flow(WEB0, DB0, 80), cluster, { labels: ['k8s:team'] })).toBe('allow');
  });

  it('named ports: on the endpoint itself for ingress, cluster-wide for egress (ignored when pods disagree)', () => {
    const ingress = { endpointSelector: web, ingressDeny: [{ fromEndpoints: [db], toPorts: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] }], enableDefaultDeny: { ingress: false, egress: false } };
    expect(verdict([ccnp(ingress)], flow(DB0, WEB0, 8080))).toBe('deny');
    expect(verdict([ccnp(ingress)], flow(DB0, WEB0, 8081))).toBe('allow');
    expect(verdict([ccnp(ingress)], flow(DB0, WEB1, 8081))).toBe('deny');
    const egress = (name: string) => ({ endpointSelector: db, egressDeny: [{ toEndpoints: [web], toPorts: [{ ports: [{ port: name, protocol: 'ANY' }] }] }], enableDefaultDeny: { ingress: false, egress: false } });
    expect(verdict([ccnp(egress('http'))], flow(DB0, WEB0, 8080))).toBe('allow'); // 8080 and 8081: ignored
    expect(verdict([ccnp(egress('dns'))], flow(DB0, WEB1, 53, 'UDP'))).toBe('deny'); // web-1 has no dns port
    expect(verdict([ccnp(egress('dns'))], flow(DB0, WEB1, 53, 'TCP'))).toBe('allow');
    expect(verdict([ccnp(egress('dns'))], flow(DB0, WEB1, 53, 'UDP'), cluster, { release: '1.20' })).toBe('allow');
    expect(verdict([ccnp(egress('http'))], flow(DB0, WEB0, 8080), cluster, { release: '1.20' })).toBe('deny');
  });

  it('the local host reaches its pods unless denied or allow-localhost=policy; a pod reaching itself is not policed', () => {
    const isolate = { endpointSelector: { matchLabels: { 'k8s:app': 'web' } }, ingress: [{ fromEndpoints: [db] }] };
    expect(verdict([ccnp(isolate)], flow(AGENT, WEB0, 80))).toBe('allow');
    const denyHost = { endpointSelector: { matchLabels: { 'k8s:app': 'web' } }, ingressDeny: [{ fromEntities: ['host'] }] };
    expect(verdict([ccnp(isolate), ccnp(denyHost)], flow(AGENT, WEB0, 80))).toBe('deny');
    expect(verdict([ccnp(isolate)], flow(AGENT, WEB0, 80), cluster, { allowLocalhost: 'policy' })).toBe('deny');
    expect(verdict([ccnp(isolate)], flow(AGENT, WEB1, 80))).toBe('deny'); // remote node
    expect(verdict([ccnp(isolate)], flow(WEB0, WEB0, 80))).toBe('allow');
  });

  it('toFQDNs matches the addresses learnt for the names, outside the cluster only', () => {
    const spec = { endpointSelector: web, egress: [{ toFQDNs: [{ matchPattern: '**.example.org' }] }] };
    const dns = { 'www.example.org': ['192.0.2.9'], 'example.org': ['192.0.2.10'] };
    expect(verdict([ccnp(spec)], flow(WEB0, ip('192.0.2.9'), 443), cluster, { dns })).toBe('allow');
    expect(verdict([ccnp(spec)], flow(WEB0, ip('192.0.2.10'), 443), cluster, { dns })).toBe('deny');
  });
});
