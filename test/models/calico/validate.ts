import { parseCidr } from '../../../src/api/ip.js';
import { labelKeyProblem, labelValueProblem } from '../../../src/api/labels.js';
import { containsGlobal, parseCalicoSelector, SelectorParseError } from './selector.js';

// What Calico's API would refuse, written from reference/calico.md §2 (GNP fields, validator
// constraints), §3 (Tier), §3.6 (tier-prefixed names on 3.29–3.31) and §4.3 (what the crd v1 path
// skips). The CRD schemas themselves are checked separately (test/unit/translate/calico/schema).

export type CalicoVersion = '3.31' | '3.32';

export const V3 = 'projectcalico.org/v3';
export const V1 = 'crd.projectcalico.org/v1';

const TIER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const POLICY_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PORT_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const RANGE = /^([0-9]+):([0-9]+)$/;

/** Calico's built-in tiers and the orders its validator pins. */
export const BUILTIN_TIER_ORDERS: Readonly<Record<string, number>> = {
  default: 1_000_000,
  adminnetworkpolicy: 1_000,
  'kube-admin': 1_000,
  baselineadminnetworkpolicy: 10_000_000,
  'kube-baseline': 10_000_000,
};

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136 };
const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);

export function protocolNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 255) return value;
  if (typeof value === 'string') {
    if (/^[0-9]+$/.test(value)) return protocolNumber(Number(value));
    return PROTOCOL_NUMBERS[value];
  }
  return undefined;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `TierFromPolicyName` (Calico ≤ 3.31): the part before the first dot, else `default`. */
export function tierFromPolicyName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? 'default' : name.slice(0, dot);
}

export interface PortSpec {
  readonly kind: 'range' | 'named';
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

/** A Calico port (`numorstring.Port`): a number, `"a:b"`, or a name; undefined when invalid. */
export function parsePort(value: unknown): PortSpec | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 65535 ? { kind: 'range', start: value, end: value, name: '' } : undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (/^[0-9]+$/.test(value)) return parsePort(Number(value));
  const m = RANGE.exec(value);
  if (m !== null) {
    const start = Number(m[1]);
    const end = Number(m[2]);
    return start <= end && end <= 65535 ? { kind: 'range', start, end, name: '' } : undefined;
  }
  return PORT_NAME.test(value) ? { kind: 'named', start: 0, end: 0, name: value } : undefined;
}

function selectorProblem(text: unknown, where: string, namespaceSelector: boolean): string | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string') return `${where}: must be a string`;
  try {
    const node = parseCalicoSelector(text);
    if (containsGlobal(node) && !(namespaceSelector && node.op === 'global')) {
      return `${where}: global() is only allowed as the whole namespaceSelector`;
    }
  } catch (e) {
    if (e instanceof SelectorParseError) return `${where}: ${e.message}`;
    throw e;
  }
  return undefined;
}

const ENTITY_KEYS = new Set(['nets', 'notNets', 'selector', 'notSelector', 'namespaceSelector', 'ports', 'notPorts']);
const RULE_KEYS = new Set(['action', 'protocol', 'notProtocol', 'ipVersion', 'source', 'destination', 'metadata']);

function ruleProblems(rule: unknown, where: string): string[] {
  if (!isObj(rule)) return [`${where}: must be an object`];
  const problems: string[] = [];
  for (const k of Object.keys(rule)) if (!RULE_KEYS.has(k)) problems.push(`${where}.${k}: not modelled (the translator must not write it)`);
  if (!['Allow', 'Deny', 'Log', 'Pass'].includes(rule['action'] as string)) problems.push(`${where}.action: invalid ${JSON.stringify(rule['action'])}`);
  const protocol = rule['protocol'] === undefined ? undefined : protocolNumber(rule['protocol']);
  if (rule['protocol'] !== undefined && protocol === undefined) problems.push(`${where}.protocol: invalid`);
  if (rule['notProtocol'] !== undefined && protocolNumber(rule['notProtocol']) === undefined) problems.push(`${where}.notProtocol: invalid`);
  const families = new Set<number>();
  for (const side of ['source', 'destination'] as const) {
    const e = rule[side];
    if (e === undefined) continue;
    const sw = `${where}.${side}`;
    if (!isObj(e)) {
      problems.push(`${sw}: must be an object`);
      continue;
    }
    for (const k of Object.keys(e)) if (!ENTITY_KEYS.has(k)) problems.push(`${sw}.${k}: not modelled (the translator must not write it)`);
    for (const netsKey of ['nets', 'notNets'] as const) {
      const nets = e[netsKey];
      if (nets === undefined) continue;
      if (!Array.isArray(nets)) {
        problems.push(`${sw}.${netsKey}: must be a list`);
        continue;
      }
      for (const n of nets) {
        const parsed = typeof n === 'string' ? parseCidr(n) : undefined;
        if (parsed === undefined) problems.push(`${sw}.${netsKey}: ${JSON.stringify(n)} is not a CIDR`);
        else {
          families.add(parsed.cidr.family);
          if (netsKey === 'notNets' && parsed.cidr.prefix === 0) problems.push(`${sw}.notNets: ${n} is not allowed`);
        }
      }
    }
    for (const k of ['selector', 'notSelector'] as const) {
      const p = selectorProblem(e[k], `${sw}.${k}`, false);
      if (p !== undefined) problems.push(p);
    }
    const p = selectorProblem(e['namespaceSelector'], `${sw}.namespaceSelector`, true);
    if (p !== undefined) problems.push(p);
    for (const portsKey of ['ports', 'notPorts'] as const) {
      const ports = e[portsKey];
      if (ports === undefined) continue;
      if (!Array.isArray(ports)) {
        problems.push(`${sw}.${portsKey}: must be a list`);
        continue;
      }
      for (const port of ports) {
        const parsed = parsePort(port);
        if (parsed === undefined) problems.push(`${sw}.${portsKey}: ${JSON.stringify(port)} is not a port`);
        else if (parsed.kind === 'range' && (protocol === undefined || !PORT_PROTOCOLS.has(protocol))) {
          problems.push(`${sw}.${portsKey}: rules with numeric port or port range must set protocol to TCP or UDP or SCTP`);
        } else if (parsed.kind === 'named' && protocol !== undefined && !PORT_PROTOCOLS.has(protocol)) {
          problems.push(`${sw}.${portsKey}: protocol ${String(rule['protocol'])} does not support ports`);
        }
      }
    }
  }
  if (families.size > 1) problems.push(`${where}: rule contains both IPv4 and IPv6 CIDRs`);
  const ipVersion = rule['ipVersion'];
  if (ipVersion !== undefined && (![4, 6].includes(ipVersion as number) || (families.size === 1 && !families.has(ipVersion as number)))) {
    problems.push(`${where}.ipVersion: inconsistent with the rule's CIDRs`);
  }
  const meta = rule['metadata'];
  if (meta !== undefined && (!isObj(meta) || (meta['annotations'] !== undefined && !isObj(meta['annotations'])))) problems.push(`${where}.metadata: invalid`);
  return problems;
}

function metadataProblems(obj: Json, where: string): string[] {
  const meta = obj['metadata'];
  if (!isObj(meta) || typeof meta['name'] !== 'string') return [`${where}: metadata.name is required`];
  const problems: string[] = [];
  const labels = meta['labels'];
  if (labels !== undefined) {
    if (!isObj(labels)) problems.push(`${where}: metadata.labels must be a map`);
    else
      for (const [k, v] of Object.entries(labels)) {
        const p = labelKeyProblem(k) ?? (typeof v === 'string' ? labelValueProblem(v) : 'label values must be strings');
        if (p !== undefined) problems.push(`${where}: ${p}`);
      }
  }
  return problems;
}

/**
 * Everything Calico (its API server, validator, admission policies, or — for crd v1 objects — the
 * way Felix reads them) would refuse or misread in a set of objects meant to be applied together.
 */
export function calicoObjectProblems(objects: readonly unknown[], version: CalicoVersion = '3.31'): string[] {
  const problems: string[] = [];
  const groups = new Set<string>();
  const tiers = new Set(Object.keys(BUILTIN_TIER_ORDERS));
  for (const o of objects) if (isObj(o) && o['kind'] === 'Tier' && isObj(o['metadata'])) tiers.add(String(o['metadata']['name']));
  const names = new Set<string>();
  for (const o of objects) {
    if (!isObj(o)) {
      problems.push('an object is not a mapping');
      continue;
    }
    const kind = o['kind'];
    const name = isObj(o['metadata']) ? String(o['metadata']['name']) : '?';
    const where = `${String(kind)}/${name}`;
    const apiVersion = o['apiVersion'];
    if (apiVersion !== V3 && apiVersion !== V1) problems.push(`${where}: apiVersion ${JSON.stringify(apiVersion)} is not a Calico API`);
    else groups.add(apiVersion);
    problems.push(...metadataProblems(o, where));
    if (names.has(where)) problems.push(`${where}: appears twice`);
    names.add(where);
    const spec = o['spec'];
    if (!isObj(spec)) {
      problems.push(`${where}: spec is required`);
      continue;
    }
    switch (kind) {
      case 'Tier': {
        if (name.length > 63 || !TIER_NAME.test(name)) problems.push(`${where}: invalid tier name`);
        if (typeof spec['order'] !== 'number' || !Number.isFinite(spec['order'])) problems.push(`${where}: order must be set explicitly (nil means 1,000,000)`);
        if (!['Pass', 'Deny', undefined].includes(spec['defaultAction'] as string)) problems.push(`${where}: defaultAction must be Pass or Deny`);
        const pinned = BUILTIN_TIER_ORDERS[name];
        if (pinned !== undefined && spec['order'] !== pinned) problems.push(`${where}: the order of a built-in tier is pinned to ${pinned}`);
        break;
      }
      case 'GlobalNetworkPolicy': {
        if (name.length > 253 || !POLICY_NAME.test(name)) problems.push(`${where}: invalid policy name (at most one dot, DNS labels)`);
        const tier = typeof spec['tier'] === 'string' && spec['tier'] !== '' ? spec['tier'] : 'default';
        if (!tiers.has(tier)) problems.push(`${where}: tier ${tier} does not exist`);
        if (tier !== 'default' && !name.startsWith(`${tier}.`)) {
          problems.push(`${where}: a policy in tier ${tier} must be named ${tier}.<name> (Calico 3.29–3.31; Felix ≤ 3.31 takes the tier from the name)`);
        }
        if (apiVersion === V1) {
          if (version === '3.31' && tierFromPolicyName(name) !== tier) problems.push(`${where}: Felix 3.31 would enforce it in tier ${tierFromPolicyName(name)}, not ${tier}`);
          if (!Array.isArray(spec['types']) || spec['types'].length === 0) problems.push(`${where}: crd v1 objects must set types (Felix reads none as Ingress+Egress)`);
          const labels = (o['metadata'] as Json)['labels'];
          if (!isObj(labels) || labels['projectcalico.org/tier'] !== tier) problems.push(`${where}: crd v1 objects must carry the projectcalico.org/tier label`);
        }
        if (typeof spec['order'] !== 'number' || !Number.isFinite(spec['order'])) problems.push(`${where}: order must be set explicitly`);
        const s = selectorProblem(spec['selector'], `${where}.spec.selector`, false);
        if (s !== undefined) problems.push(s);
        const ns = selectorProblem(spec['namespaceSelector'], `${where}.spec.namespaceSelector`, false);
        if (ns !== undefined) problems.push(ns);
        const types = spec['types'];
        if (types !== undefined && (!Array.isArray(types) || types.some((t) => t !== 'Ingress' && t !== 'Egress') || new Set(types).size !== types.length)) {
          problems.push(`${where}: invalid types`);
        }
        for (const dir of ['ingress', 'egress'] as const) {
          const rules = spec[dir];
          if (rules === undefined) continue;
          if (!Array.isArray(rules)) problems.push(`${where}.spec.${dir}: must be a list`);
          else rules.forEach((r, i) => problems.push(...ruleProblems(r, `${where}.spec.${dir}[${i}]`)));
        }
        break;
      }
      case 'GlobalNetworkSet': {
        if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) problems.push(`${where}: invalid name`);
        const nets = spec['nets'];
        if (nets !== undefined && (!Array.isArray(nets) || nets.some((n) => typeof n !== 'string' || parseCidr(n) === undefined))) problems.push(`${where}: invalid nets`);
        break;
      }
      default:
        problems.push(`${where}: kind not modelled`);
    }
  }
  if (groups.size > 1) problems.push('objects mix projectcalico.org/v3 and crd.projectcalico.org/v1');
  return problems;
}
