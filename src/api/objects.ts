import { Checker, type Diagnostic } from './diagnostics.js';
import { parseCidr, parseIp } from './ip.js';
import { labelKeyProblem, labelValueProblem, parseSelector } from './labels.js';
import {
  EMPTY_SELECTOR,
  PROTOCOLS,
  type ContainerPort,
  type Direction,
  type Namespace,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicyRule,
  type Node,
  type Pod,
  type Protocol,
} from './model.js';
import { asList, asObject, asString, describe, isObject, type JsonObject } from './values.js';

// Cluster objects are read leniently: only the fields policy depends on are
// checked, and anything else (status we do not use, managedFields, …) is ignored.

export interface ObjectResult<T> {
  readonly value: T | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

function start(raw: unknown): { c: Checker; diagnostics: Diagnostic[]; obj: JsonObject | undefined } {
  const diagnostics: Diagnostic[] = [];
  const c = new Checker(diagnostics, '');
  return { c, diagnostics, obj: asObject(raw, c) };
}

function metaName(obj: JsonObject, c: Checker, namespaced: boolean): { name?: string; namespace?: string } {
  const mc = c.field('metadata');
  const meta = asObject(obj['metadata'], mc);
  if (meta === undefined) return {};
  const name = meta['name'] === undefined ? (mc.field('name').error('is required'), undefined) : asString(meta['name'], mc.field('name'));
  let namespace: string | undefined;
  if (namespaced) {
    namespace = meta['namespace'] === undefined ? 'default' : asString(meta['namespace'], mc.field('namespace'));
  }
  return { name, namespace };
}

function labelsOf(obj: JsonObject, c: Checker): Record<string, string> {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const raw = meta['labels'];
  if (raw === undefined || raw === null) return {};
  const lc = c.field('metadata').field('labels');
  const labels = asObject(raw, lc);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    const problem = labelKeyProblem(k);
    if (problem !== undefined) lc.field(k).error(problem);
    if (typeof v !== 'string') lc.field(k).error(`label value must be a string, got ${describe(v)}`);
    else {
      const vp = labelValueProblem(v);
      if (vp !== undefined) lc.field(k).error(vp);
      out[k] = v;
    }
  }
  return out;
}

export function parseNamespace(raw: unknown): ObjectResult<Namespace> {
  const { c, diagnostics, obj } = start(raw);
  if (obj === undefined) return { value: undefined, diagnostics };
  const { name } = metaName(obj, c, false);
  const labels = labelsOf(obj, c);
  if (name === undefined || diagnostics.some((d) => d.severity === 'error')) return { value: undefined, diagnostics };
  // The API server always sets this label; a snapshot written by hand may not have it.
  return { value: { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } }, diagnostics };
}

function parseProtocolName(v: unknown, c: Checker): Protocol | undefined {
  if (v === undefined || v === null) return 'TCP';
  if (typeof v === 'string' && (PROTOCOLS as readonly string[]).includes(v)) return v as Protocol;
  c.error(`must be one of ${PROTOCOLS.join(', ')}, got ${describe(v)}`);
  return undefined;
}

function parseIps(list: unknown[], c: Checker): string[] {
  const ips: string[] = [];
  list.forEach((item, i) => {
    const ic = c.index(i);
    const raw = isObject(item) ? item['ip'] : item;
    const text = asString(raw, ic);
    if (text === undefined) return;
    if (parseIp(text) === undefined) ic.error(`${JSON.stringify(text)} is not an IP address`);
    else if (!ips.includes(text)) ips.push(text);
  });
  return ips;
}

export function parsePod(raw: unknown): ObjectResult<Pod> {
  const { c, diagnostics, obj } = start(raw);
  if (obj === undefined) return { value: undefined, diagnostics };
  const { name, namespace } = metaName(obj, c, true);
  const labels = labelsOf(obj, c);
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const status = isObject(obj['status']) ? obj['status'] : {};
  const hostNetwork = spec['hostNetwork'] === true;
  const nodeName = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : undefined;
  const ports: ContainerPort[] = [];
  const containers = Array.isArray(spec['containers']) ? spec['containers'] : [];
  containers.forEach((container, ci) => {
    if (!isObject(container) || !Array.isArray(container['ports'])) return;
    const pc = c.field('spec').field('containers').index(ci).field('ports');
    container['ports'].forEach((p, pi) => {
      const ppc = pc.index(pi);
      if (!isObject(p)) return void ppc.error(`must be an object, got ${describe(p)}`);
      const port = p['containerPort'];
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        return void ppc.field('containerPort').error(`must be an integer between 1 and 65535, got ${describe(port)}`);
      }
      const protocol = parseProtocolName(p['protocol'], ppc.field('protocol'));
      const portName = typeof p['name'] === 'string' && p['name'] !== '' ? p['name'] : undefined;
      if (protocol !== undefined) ports.push({ name: portName, port, protocol });
    });
  });
  let ips: string[] = [];
  if (Array.isArray(status['podIPs'])) ips = parseIps(status['podIPs'], c.field('status').field('podIPs'));
  if (typeof status['podIP'] === 'string') {
    for (const ip of parseIps([status['podIP']], c.field('status').field('podIP'))) if (!ips.includes(ip)) ips.unshift(ip);
  }
  if (name === undefined || namespace === undefined || diagnostics.some((d) => d.severity === 'error')) {
    return { value: undefined, diagnostics };
  }
  return { value: { namespace, name, labels, hostNetwork, nodeName, ips, ports }, diagnostics };
}

export function parseNode(raw: unknown): ObjectResult<Node> {
  const { c, diagnostics, obj } = start(raw);
  if (obj === undefined) return { value: undefined, diagnostics };
  const { name } = metaName(obj, c, false);
  const labels = labelsOf(obj, c);
  const status = isObject(obj['status']) ? obj['status'] : {};
  const addresses: string[] = [];
  if (Array.isArray(status['addresses'])) {
    const ac = c.field('status').field('addresses');
    status['addresses'].forEach((a, i) => {
      if (!isObject(a)) return void ac.index(i).error(`must be an object, got ${describe(a)}`);
      // Only IP addresses carry traffic; Hostname and DNS entries are names.
      if (a['type'] !== 'InternalIP' && a['type'] !== 'ExternalIP') return;
      const text = asString(a['address'], ac.index(i).field('address'));
      if (text === undefined) return;
      if (parseIp(text) === undefined) ac.index(i).field('address').error(`${JSON.stringify(text)} is not an IP address`);
      else if (!addresses.includes(text)) addresses.push(text);
    });
  }
  if (name === undefined || diagnostics.some((d) => d.severity === 'error')) return { value: undefined, diagnostics };
  return { value: { name, labels, addresses }, diagnostics };
}

export function parseNetworkPolicy(raw: unknown): ObjectResult<NetworkPolicy> {
  const { c, diagnostics, obj } = start(raw);
  if (obj === undefined) return { value: undefined, diagnostics };
  const { name, namespace } = metaName(obj, c, true);
  const sc = c.field('spec');
  const spec = asObject(obj['spec'] ?? {}, sc) ?? {};
  const podSelector = spec['podSelector'] === undefined || spec['podSelector'] === null ? EMPTY_SELECTOR : parseSelector(spec['podSelector'], sc.field('podSelector'));
  const ingress = parseNpRules(spec['ingress'], sc.field('ingress'), 'from');
  const egress = parseNpRules(spec['egress'], sc.field('egress'), 'to');
  let policyTypes: Direction[];
  if (spec['policyTypes'] === undefined || spec['policyTypes'] === null) {
    // Kubernetes defaulting: Ingress always, Egress when egress rules exist.
    policyTypes = spec['egress'] !== undefined && spec['egress'] !== null ? ['ingress', 'egress'] : ['ingress'];
  } else {
    policyTypes = [];
    const tc = sc.field('policyTypes');
    asList(spec['policyTypes'], tc, 0, 2)?.forEach((t, i) => {
      if (t === 'Ingress') policyTypes.push('ingress');
      else if (t === 'Egress') policyTypes.push('egress');
      else tc.index(i).error(`must be "Ingress" or "Egress", got ${describe(t)}`);
    });
  }
  if (name === undefined || namespace === undefined || podSelector === undefined || diagnostics.some((d) => d.severity === 'error')) {
    return { value: undefined, diagnostics };
  }
  return { value: { namespace, name, podSelector, policyTypes, ingress, egress }, diagnostics };
}

function parseNpRules(raw: unknown, c: Checker, peerKey: 'from' | 'to'): NetworkPolicyRule[] {
  if (raw === undefined || raw === null) return [];
  const list = asList(raw, c, 0, Number.MAX_SAFE_INTEGER) ?? [];
  const rules: NetworkPolicyRule[] = [];
  list.forEach((item, i) => {
    const rc = c.index(i);
    const rule = asObject(item, rc);
    if (rule === undefined) return;
    let peers: NetworkPolicyPeer[] | undefined;
    const rawPeers = rule[peerKey];
    if (Array.isArray(rawPeers) && rawPeers.length > 0) {
      peers = [];
      rawPeers.forEach((p, pi) => {
        const peer = parseNpPeer(p, rc.field(peerKey).index(pi));
        if (peer !== undefined) peers!.push(peer);
      });
    }
    let ports: NetworkPolicyPort[] | undefined;
    if (Array.isArray(rule['ports']) && rule['ports'].length > 0) {
      ports = [];
      rule['ports'].forEach((p, pi) => {
        const pc = rc.field('ports').index(pi);
        const port = asObject(p, pc);
        if (port === undefined) return;
        const protocol = parseProtocolName(port['protocol'], pc.field('protocol'));
        const value = port['port'];
        let num: number | string | undefined;
        if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) num = value;
        else if (typeof value === 'string' && value !== '') num = /^[0-9]+$/.test(value) ? Number(value) : value;
        else if (value !== undefined && value !== null) pc.field('port').error(`must be a port number or name, got ${describe(value)}`);
        const endPort = typeof port['endPort'] === 'number' ? port['endPort'] : undefined;
        if (protocol !== undefined) ports!.push({ protocol, port: num, endPort });
      });
    }
    rules.push({ peers, ports });
  });
  return rules;
}

function parseNpPeer(raw: unknown, c: Checker): NetworkPolicyPeer | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  if (obj['ipBlock'] !== undefined) {
    const bc = c.field('ipBlock');
    const block = asObject(obj['ipBlock'], bc);
    if (block === undefined) return undefined;
    const cidr = parseCidr(String(block['cidr']));
    if (cidr === undefined) return void bc.field('cidr').error(`${describe(block['cidr'])} is not a CIDR`);
    const except = (Array.isArray(block['except']) ? block['except'] : []).flatMap((e, i) => {
      const p = parseCidr(String(e));
      if (p === undefined) {
        bc.field('except').index(i).error(`${describe(e)} is not a CIDR`);
        return [];
      }
      return [p.cidr];
    });
    return { kind: 'ipBlock', cidr: cidr.cidr, except };
  }
  const namespaces = obj['namespaceSelector'] === undefined || obj['namespaceSelector'] === null ? undefined : parseSelector(obj['namespaceSelector'], c.field('namespaceSelector'));
  const pods = obj['podSelector'] === undefined || obj['podSelector'] === null ? EMPTY_SELECTOR : parseSelector(obj['podSelector'], c.field('podSelector'));
  if (pods === undefined) return undefined;
  if (obj['namespaceSelector'] !== undefined && obj['namespaceSelector'] !== null && namespaces === undefined) return undefined;
  return { kind: 'pods', namespaces, pods };
}
