import { cidrContains, parseCidr, parseIp, type Ip } from '../../../src/api/ip.js';
import type { Cidr, NetworkPolicy, Node, Pod, Selector, Snapshot } from '../../../src/api/model.js';
import type { Flow, Verdict } from '../../../src/semantics/flow.js';
import { evaluateSelector, NAMESPACE_LABEL, NAMESPACE_PREFIX, parseCalicoSelector, rewriteNamespaceSelector, type Labels, type SelectorNode } from './selector.js';
import { calicoObjectProblems, parsePort, protocolNumber, tierFromPolicyName, V1, type CalicoVersion, type PortSpec } from './validate.js';

// A model of how Calico (Felix) decides a connection, written from reference/calico.md — never
// from the translator:
//   - endpoints (§2.4 special labels): every non-host-network pod is a workload endpoint with its
//     labels plus projectcalico.org/namespace and projectcalico.org/orchestrator=k8s, and inherits
//     its namespace's labels (prefixed pcns., plus pcns.projectcalico.org/name) from profile kns.<ns>;
//     host-network pods are not workload endpoints; optionally, calico-kube-controllers' auto host
//     endpoints (node labels + projectcalico.org/created-by=calico-kube-controllers, node IPs);
//   - policies: GlobalNetworkPolicies (either API group) and Kubernetes NetworkPolicies as Calico
//     converts them (§3.5: tier default, order 1000, selector ANDed with the orchestrator clause,
//     namespaced);
//   - evaluation (§3.4): per direction, only tiers with a policy selecting the endpoint for that
//     direction (per `types`; none = both), in (order, name), missing Tier objects last with Deny;
//     policies by (order — nil last — then "<name>/<namespace>/<kind>"); rules in order, Allow/Deny
//     final, Pass to the next tier, Log continues; end of tier: the tier's defaultAction; after the
//     tiers, the profiles, which allow;
//   - matching (§2.2–2.3): protocol, nets/notNets, selector/notSelector as IP sets of endpoints and
//     network sets (namespaceSelector rewritten with pcns., all() → has(projectcalico.org/namespace),
//     global() → !has(projectcalico.org/namespace); in a namespaced policy a selector without a
//     namespaceSelector is scoped to the policy's namespace), numeric ports, and named ports
//     resolved as the (IP, protocol, port) of the named container port of the endpoints the rule's
//     selector (or all()) matches. The protocol of that named-port IP set is the rule's protocol
//     when it is UDP or SCTP and TCP otherwise — including when the rule has no protocol — and a
//     packet matches the set only with that protocol (Felix `calc/rule_scanner.go`
//     `ruleToParsedRule`, upstream source; reference/calico.md does not say this).
// One dataplane fact beyond the reference: a pod connecting to its own IP is looped back inside
// its network namespace and never reaches Felix's chains, so it is allowed.

export interface CalicoModelOptions {
  /** Calico 3.31 (Felix takes a crd v1 policy's tier from its name) or 3.32 (from spec.tier). */
  readonly version?: CalicoVersion;
  /** Model calico-kube-controllers' auto host endpoints (one per node). */
  readonly autoHostEndpoints?: boolean;
  /**
   * Refuse objects Calico's API would refuse or Felix would misread (default true). Off only to
   * show what Felix does with such objects.
   */
  readonly validate?: boolean;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

type Dir = 'Ingress' | 'Egress';

interface Entity {
  readonly kind: 'workload' | 'host' | 'networkset';
  readonly id: string;
  readonly labels: Labels;
  readonly ips: readonly Ip[];
  readonly nets: readonly Cidr[];
  readonly ports: Pod['ports'];
}

interface EntityMatch {
  readonly nets: readonly Cidr[];
  readonly notNets: readonly Cidr[];
  readonly selector: SelectorNode | undefined;
  readonly notSelector: SelectorNode | undefined;
  readonly ports: readonly PortSpec[];
  readonly notPorts: readonly PortSpec[];
}

interface ModelRule {
  readonly action: 'Allow' | 'Deny' | 'Pass' | 'Log';
  readonly protocol: number | undefined;
  readonly notProtocol: number | undefined;
  readonly ipVersion: number | undefined;
  readonly source: EntityMatch;
  readonly destination: EntityMatch;
  readonly text: string;
}

interface ModelPolicy {
  readonly kind: 'GlobalNetworkPolicy' | 'KubernetesNetworkPolicy';
  readonly name: string;
  readonly namespace: string;
  readonly tier: string;
  readonly order: number;
  readonly selector: SelectorNode;
  readonly types: ReadonlySet<Dir>;
  readonly ingress: readonly ModelRule[];
  readonly egress: readonly ModelRule[];
}

interface ModelTier {
  readonly name: string;
  readonly order: number;
  readonly defaultAction: 'Pass' | 'Deny';
  readonly valid: boolean;
}

export interface ModelDirection {
  readonly verdict: Verdict;
  readonly trace: readonly string[];
}

export interface ModelResult {
  readonly verdict: Verdict;
  readonly egress: ModelDirection;
  readonly ingress: ModelDirection;
}

const TCP = 6;
const UDP = 17;
const SCTP = 132;

const AND = (a: SelectorNode, b: SelectorNode): SelectorNode => ({ op: 'and', left: a, right: b });

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`not a CIDR: ${text}`);
  return parsed.cidr;
}

/** Calico's combination of a selector and a namespaceSelector (reference/calico.md §2.1, §2.3). */
function combine(selector: unknown, namespaceSelector: unknown, policyNamespace: string | undefined): SelectorNode | undefined {
  const sel = typeof selector === 'string' && selector.trim() !== '' ? parseCalicoSelector(selector) : undefined;
  const ns = typeof namespaceSelector === 'string' && namespaceSelector.trim() !== '' ? rewriteNamespaceSelector(parseCalicoSelector(namespaceSelector)) : undefined;
  if (ns === undefined && sel !== undefined && policyNamespace !== undefined) {
    return AND(sel, { op: 'eq', key: NAMESPACE_LABEL, value: policyNamespace });
  }
  if (sel === undefined) return ns;
  return ns === undefined ? sel : AND(sel, ns);
}

function entityMatch(raw: unknown, policyNamespace: string | undefined): EntityMatch {
  const e = isObj(raw) ? raw : {};
  const list = (k: string): unknown[] => (Array.isArray(e[k]) ? (e[k] as unknown[]) : []);
  const ports = (k: string): PortSpec[] =>
    list(k).map((p) => {
      const parsed = parsePort(p);
      if (parsed === undefined) throw new Error(`invalid port ${JSON.stringify(p)}`);
      return parsed;
    });
  return {
    nets: list('nets').map((n) => cidr(String(n))),
    notNets: list('notNets').map((n) => cidr(String(n))),
    selector: combine(e['selector'], e['namespaceSelector'], policyNamespace),
    notSelector: typeof e['notSelector'] === 'string' && e['notSelector'] !== '' ? parseCalicoSelector(e['notSelector']) : undefined,
    ports: ports('ports'),
    notPorts: ports('notPorts'),
  };
}

function modelRule(raw: unknown, policyNamespace: string | undefined): ModelRule {
  if (!isObj(raw)) throw new Error('a rule must be an object');
  for (const k of Object.keys(raw)) {
    if (!['action', 'protocol', 'notProtocol', 'ipVersion', 'source', 'destination', 'metadata'].includes(k)) throw new Error(`rule field ${k} is not modelled`);
  }
  const source = entityMatch(raw['source'], policyNamespace);
  if (source.ports.length > 0 || source.notPorts.length > 0) throw new Error('source ports are not modelled (flows have no source port)');
  return {
    action: raw['action'] as ModelRule['action'],
    protocol: raw['protocol'] === undefined ? undefined : protocolNumber(raw['protocol']),
    notProtocol: raw['notProtocol'] === undefined ? undefined : protocolNumber(raw['notProtocol']),
    ipVersion: typeof raw['ipVersion'] === 'number' ? raw['ipVersion'] : undefined,
    source,
    destination: entityMatch(raw['destination'], policyNamespace),
    text: JSON.stringify(raw),
  };
}

// ---- Kubernetes NetworkPolicy as Calico converts it (reference/calico.md §2.4, §3.5) ----

function k8sSelector(selector: Selector, pod: boolean): string {
  const parts: string[] = pod ? ["projectcalico.org/orchestrator == 'k8s'"] : [];
  if (!pod && selector.requirements.length === 0) return 'all()';
  for (const r of selector.requirements) {
    const vals = r.values.map((v) => `'${v}'`).join(', ');
    if (r.operator === 'Exists') parts.push(`has(${r.key})`);
    else if (r.operator === 'DoesNotExist') parts.push(`! has(${r.key})`);
    else if (r.operator === 'In') parts.push(`${r.key} in { ${vals} }`);
    else parts.push(`${r.key} not in { ${vals} }`);
  }
  return parts.join(' && ');
}

function networkPolicyRules(np: NetworkPolicy, dir: 'ingress' | 'egress'): Json[] {
  const side = dir === 'ingress' ? 'source' : 'destination';
  const rules: Json[] = [];
  for (const rule of dir === 'ingress' ? np.ingress : np.egress) {
    const peers: Json[] =
      rule.peers === undefined
        ? [{}]
        : rule.peers.map((p) =>
            p.kind === 'ipBlock'
              ? { nets: [p.cidr.text], ...(p.except.length > 0 ? { notNets: p.except.map((e) => e.text) } : {}) }
              : { selector: k8sSelector(p.pods, true), ...(p.namespaces === undefined ? {} : { namespaceSelector: k8sSelector(p.namespaces, false) }) },
          );
    const ports: Json[] =
      rule.ports === undefined
        ? [{}]
        : rule.ports.map((p) => ({
            protocol: p.protocol,
            ...(p.port === undefined ? {} : { ports: [typeof p.port === 'number' && p.endPort !== undefined ? `${p.port}:${p.endPort}` : p.port] }),
          }));
    for (const peer of peers) {
      for (const port of ports) {
        const destPorts = port['ports'] === undefined ? {} : { ports: port['ports'] };
        rules.push({
          action: 'Allow',
          ...(port['protocol'] === undefined ? {} : { protocol: port['protocol'] }),
          [side]: peer,
          destination: side === 'destination' ? { ...peer, ...destPorts } : destPorts,
        });
      }
    }
  }
  return rules;
}

function networkPolicyModel(np: NetworkPolicy): ModelPolicy {
  const types = new Set<Dir>(np.policyTypes.map((t) => (t === 'ingress' ? 'Ingress' : 'Egress')));
  if (types.size === 0) types.add('Ingress');
  return {
    kind: 'KubernetesNetworkPolicy',
    name: np.name,
    namespace: np.namespace,
    tier: 'default',
    order: 1000,
    selector: AND(parseCalicoSelector(k8sSelector(np.podSelector, true)), { op: 'eq', key: NAMESPACE_LABEL, value: np.namespace }),
    types,
    ingress: networkPolicyRules(np, 'ingress').map((r) => modelRule(r, np.namespace)),
    egress: networkPolicyRules(np, 'egress').map((r) => modelRule(r, np.namespace)),
  };
}

// ---- Calico objects ----

function policyModel(o: Json, version: CalicoVersion): ModelPolicy {
  const meta = o['metadata'] as Json;
  const spec = o['spec'] as Json;
  const name = String(meta['name']);
  const specTier = typeof spec['tier'] === 'string' && spec['tier'] !== '' ? spec['tier'] : 'default';
  // crd v1 on Felix ≤ 3.31: the tier comes from the name (§4.3 item 1).
  const tier = o['apiVersion'] === V1 && version === '3.31' ? tierFromPolicyName(name) : specTier;
  const ingress = Array.isArray(spec['ingress']) ? spec['ingress'] : [];
  const egress = Array.isArray(spec['egress']) ? spec['egress'] : [];
  let types = Array.isArray(spec['types']) ? (spec['types'] as Dir[]) : [];
  if (types.length === 0) {
    // v3: defaulted by the API server / admission (§2.1); crd v1: Felix reads none as both.
    if (o['apiVersion'] === V1) types = ['Ingress', 'Egress'];
    else types = ingress.length > 0 && egress.length > 0 ? ['Ingress', 'Egress'] : egress.length > 0 ? ['Egress'] : ['Ingress'];
  }
  const sel = typeof spec['selector'] === 'string' && spec['selector'].trim() !== '' ? parseCalicoSelector(spec['selector']) : ({ op: 'all' } as const);
  const ns = typeof spec['namespaceSelector'] === 'string' && spec['namespaceSelector'].trim() !== '' ? rewriteNamespaceSelector(parseCalicoSelector(spec['namespaceSelector'])) : undefined;
  return {
    kind: 'GlobalNetworkPolicy',
    name,
    namespace: '',
    tier,
    order: typeof spec['order'] === 'number' ? spec['order'] : Number.POSITIVE_INFINITY,
    selector: ns === undefined ? sel : AND(sel, ns),
    types: new Set(types),
    ingress: ingress.map((r) => modelRule(r, undefined)),
    egress: egress.map((r) => modelRule(r, undefined)),
  };
}

interface Packet {
  readonly src: End;
  readonly dst: End;
  readonly protocol: number;
  readonly port: number;
}

interface End {
  readonly ip: Ip | undefined;
  /** The workload or host endpoint at this end, if any. */
  readonly endpoint: Entity | undefined;
}

function sameIp(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Felix's decision for flows over one set of Calico objects and one cluster. */
export class CalicoModel {
  private readonly tiers = new Map<string, ModelTier>();
  private readonly policies: ModelPolicy[] = [];
  private readonly entities: Entity[] = [];
  private readonly workloads = new Map<string, Entity>();
  private readonly hosts: Entity[] = [];
  private readonly snapshot: Snapshot;

  constructor(objects: readonly unknown[], snapshot: Snapshot, options: CalicoModelOptions = {}) {
    const version = options.version ?? '3.31';
    const problems = options.validate === false ? [] : calicoObjectProblems(objects, version);
    if (problems.length > 0) throw new Error(`Calico would refuse or misread these objects:\n  ${problems.join('\n  ')}`);
    this.snapshot = snapshot;
    this.tiers.set('default', { name: 'default', order: 1_000_000, defaultAction: 'Deny', valid: true });
    for (const o of objects as Json[]) {
      const meta = o['metadata'] as Json;
      const spec = o['spec'] as Json;
      const name = String(meta['name']);
      if (o['kind'] === 'Tier') {
        // DefaultTierFields: nil order → 1,000,000, nil defaultAction → Deny (§3).
        this.tiers.set(name, {
          name,
          order: typeof spec['order'] === 'number' ? spec['order'] : 1_000_000,
          defaultAction: spec['defaultAction'] === 'Pass' ? 'Pass' : 'Deny',
          valid: true,
        });
      } else if (o['kind'] === 'GlobalNetworkPolicy') {
        this.policies.push(policyModel(o, version));
      } else if (o['kind'] === 'GlobalNetworkSet') {
        const labels = isObj(meta['labels']) ? (meta['labels'] as Labels) : {};
        const nets = (Array.isArray(spec['nets']) ? spec['nets'] : []).map((n) => cidr(String(n)));
        this.entities.push({ kind: 'networkset', id: `gns/${name}`, labels, ips: [], nets, ports: [] });
      }
    }
    for (const np of snapshot.networkPolicies) this.policies.push(networkPolicyModel(np));
    for (const p of this.policies) {
      if (!this.tiers.has(p.tier)) this.tiers.set(p.tier, { name: p.tier, order: Number.POSITIVE_INFINITY, defaultAction: 'Deny', valid: false });
    }

    const namespaces = new Map(snapshot.namespaces.map((n) => [n.name, n]));
    for (const pod of snapshot.pods) {
      if (pod.hostNetwork) continue;
      const ns = namespaces.get(pod.namespace);
      const inherited: Record<string, string> = {};
      for (const [k, v] of Object.entries(ns?.labels ?? {})) inherited[NAMESPACE_PREFIX + k] = v;
      inherited[`${NAMESPACE_PREFIX}projectcalico.org/name`] = pod.namespace;
      const labels = { ...inherited, ...pod.labels, [NAMESPACE_LABEL]: pod.namespace, 'projectcalico.org/orchestrator': 'k8s' };
      const ips = pod.ips.map((i) => parseIp(i)).filter((i): i is Ip => i !== undefined);
      const wep: Entity = { kind: 'workload', id: `wep/${pod.namespace}/${pod.name}`, labels, ips, nets: [], ports: pod.ports };
      this.entities.push(wep);
      this.workloads.set(`${pod.namespace}/${pod.name}`, wep);
    }
    if (options.autoHostEndpoints === true) {
      for (const node of snapshot.nodes) this.addHost(node);
    }
  }

  private addHost(node: Node): void {
    const ips = node.addresses.map((a) => parseIp(a)).filter((i): i is Ip => i !== undefined);
    const hep: Entity = {
      kind: 'host',
      id: `hep/${node.name}-auto-hep`,
      labels: { ...node.labels, 'projectcalico.org/created-by': 'calico-kube-controllers' },
      ips,
      nets: [],
      ports: [],
    };
    this.entities.push(hep);
    this.hosts.push(hep);
  }

  private resolve(endpoint: Flow['from']): End {
    if (endpoint.kind === 'pod') {
      const pod = this.snapshot.pods.find((p) => p.namespace === endpoint.namespace && p.name === endpoint.name);
      const ip = pod?.ips[0] === undefined ? undefined : parseIp(pod.ips[0]);
      if (pod === undefined || ip === undefined) return { ip, endpoint: undefined };
      if (!pod.hostNetwork) return { ip, endpoint: this.workloads.get(`${pod.namespace}/${pod.name}`) };
      return { ip, endpoint: this.hosts.find((h) => h.ips.some((i) => sameIp(i, ip))) };
    }
    const ip = parseIp(endpoint.ip);
    if (ip === undefined) return { ip, endpoint: undefined };
    const owner = [...this.workloads.values(), ...this.hosts].find((e) => e.ips.some((i) => sameIp(i, ip)));
    return { ip, endpoint: owner };
  }

  evaluate(flow: Flow): ModelResult {
    const src = this.resolve(flow.from);
    const dst = this.resolve(flow.to);
    const pkt: Packet = { src, dst, protocol: protocolNumber(flow.protocol)!, port: flow.port };
    if (src.endpoint !== undefined && src.endpoint === dst.endpoint) {
      const looped: ModelDirection = { verdict: 'allow', trace: ['connection to its own address: looped back inside the endpoint, never reaches policy'] };
      return { verdict: 'allow', egress: looped, ingress: looped };
    }
    const egress = this.direction('Egress', src.endpoint, pkt);
    const ingress = this.direction('Ingress', dst.endpoint, pkt);
    return { verdict: egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny', egress, ingress };
  }

  private direction(dir: Dir, endpoint: Entity | undefined, pkt: Packet): ModelDirection {
    if (endpoint === undefined) return { verdict: 'allow', trace: ['no Calico endpoint: no policy applies'] };
    const trace: string[] = [];
    const applicable = this.policies.filter((p) => p.types.has(dir) && evaluateSelector(p.selector, endpoint.labels));
    const tierNames = [...new Set(applicable.map((p) => p.tier))];
    const tiers = tierNames
      .map((n) => this.tiers.get(n)!)
      .sort((a, b) => Number(!a.valid) - Number(!b.valid) || a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    tiers: for (const tier of tiers) {
      const policies = applicable
        .filter((p) => p.tier === tier.name)
        .sort((a, b) => {
          if (a.order !== b.order) return a.order < b.order ? -1 : 1;
          const ka = `${a.name}/${a.namespace}/${a.kind}`;
          const kb = `${b.name}/${b.namespace}/${b.kind}`;
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
      for (const policy of policies) {
        const rules = dir === 'Ingress' ? policy.ingress : policy.egress;
        for (const [i, rule] of rules.entries()) {
          if (!this.ruleMatches(rule, pkt)) continue;
          const where = `tier ${tier.name}: ${policy.kind} ${policy.namespace === '' ? '' : `${policy.namespace}/`}${policy.name} ${dir.toLowerCase()}[${i}] ${rule.action}`;
          trace.push(where);
          if (rule.action === 'Log') continue;
          if (rule.action === 'Pass') continue tiers;
          return { verdict: rule.action === 'Allow' ? 'allow' : 'deny', trace };
        }
      }
      trace.push(`end of tier ${tier.name}: ${tier.defaultAction}`);
      if (tier.defaultAction === 'Deny') return { verdict: 'deny', trace };
    }
    trace.push(`profiles of ${endpoint.id}: allow`);
    return { verdict: 'allow', trace };
  }

  private ruleMatches(rule: ModelRule, pkt: Packet): boolean {
    if (rule.protocol !== undefined && rule.protocol !== pkt.protocol) return false;
    if (rule.notProtocol !== undefined && rule.notProtocol === pkt.protocol) return false;
    const family = pkt.dst.ip?.family ?? pkt.src.ip?.family;
    if (rule.ipVersion !== undefined && rule.ipVersion !== family) return false;
    return this.entityMatches(rule.source, pkt.src, pkt, rule.protocol) && this.entityMatches(rule.destination, pkt.dst, pkt, rule.protocol);
  }

  /** The IP belongs to an endpoint or network set the selector matches (Felix's IP sets). */
  private selected(selector: SelectorNode, ip: Ip): boolean {
    return this.entities.some((e) => (e.ips.some((i) => sameIp(i, ip)) || e.nets.some((n) => cidrContains(n, ip))) && evaluateSelector(selector, e.labels));
  }

  private entityMatches(m: EntityMatch, end: End, pkt: Packet, ruleProtocol: number | undefined): boolean {
    const ip = end.ip;
    if (ip === undefined) {
      return m.nets.length === 0 && m.selector === undefined && m.ports.length === 0;
    }
    if (m.nets.length > 0 && !m.nets.some((n) => cidrContains(n, ip))) return false;
    if (m.notNets.some((n) => cidrContains(n, ip))) return false;
    if (m.selector !== undefined && !this.selected(m.selector, ip)) return false;
    if (m.notSelector !== undefined && this.selected(m.notSelector, ip)) return false;
    if (m.ports.length > 0 && !m.ports.some((p) => this.portMatches(p, m.selector, ip, pkt, ruleProtocol))) return false;
    if (m.notPorts.some((p) => this.portMatches(p, m.selector, ip, pkt, ruleProtocol))) return false;
    return true;
  }

  private portMatches(port: PortSpec, selector: SelectorNode | undefined, ip: Ip, pkt: Packet, ruleProtocol: number | undefined): boolean {
    if (port.kind === 'range') return pkt.port >= port.start && pkt.port <= port.end;
    // Named port: an IP set of (IP, protocol, port) of that container port on the endpoints the
    // rule's selector (all() when none) matches, for one protocol: UDP or SCTP when the rule says
    // so, else TCP.
    const setProtocol = ruleProtocol === UDP || ruleProtocol === SCTP ? ruleProtocol : TCP;
    if (pkt.protocol !== setProtocol) return false;
    const sel = selector ?? ({ op: 'all' } as const);
    return this.entities.some(
      (e) =>
        e.ips.some((i) => sameIp(i, ip)) &&
        evaluateSelector(sel, e.labels) &&
        e.ports.some((cp) => cp.name === port.name && protocolNumber(cp.protocol) === setProtocol && cp.port === pkt.port),
    );
  }
}

/** Convenience: one flow. */
export function calicoVerdict(objects: readonly unknown[], snapshot: Snapshot, flow: Flow, options?: CalicoModelOptions): ModelResult {
  return new CalicoModel(objects, snapshot, options).evaluate(flow);
}
