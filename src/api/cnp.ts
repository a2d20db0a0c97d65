import { Checker, hasErrors, type Diagnostic } from './diagnostics.js';
import { parseCidr } from './ip.js';
import { parseSelectorLenient } from './labels.js';
import {
  ACTIONS,
  EMPTY_SELECTOR,
  TIERS,
  type Action,
  type Cidr,
  type Direction,
  type Peer,
  type PodSet,
  type Policy,
  type PortMatch,
  type Protocol,
  type Rule,
} from './model.js';
import { asEnum, asInteger, asList, asObject, asString, exactlyOne, rejectUnknown, type JsonObject } from './values.js';

export const CNP_GROUP = 'policy.networking.k8s.io';
export const CNP_VERSIONS = ['v1alpha2', 'v1beta1'] as const;
export const CNP_KIND = 'ClusterNetworkPolicy';

// Limits of the upstream CRD (v0.2.0).
const MAX_RULES = 25;
const MAX_PEERS = 25;
const MAX_PROTOCOLS = 25;
const MAX_LIST = 25;
const MAX_RULE_NAME = 100;
const MAX_CIDR_LENGTH = 43;
const MAX_PRIORITY = 1000;

// The upstream pattern has `[a-zA-z0-9]`, a typo fixed upstream in PR #391; the fixed one is used.
const DOMAIN_NAME = /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const INGRESS_PEERS = ['namespaces', 'pods'] as const;
const EGRESS_PEERS = ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'] as const;
const PROTOCOL_KEYS = ['tcp', 'udp', 'sctp', 'destinationNamedPort'] as const;

export interface CnpResult {
  /** The normalised policy; undefined when there are errors. */
  readonly policy: Policy | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ParseOptions {
  /**
   * Where the object comes from. `file` (the default): checked as the CRD shipped here checks
   * it. `cluster`: an API server accepted it, perhaps under another CRD version — a peer or
   * protocol type this operator does not know comes from a newer API, so its rule fails closed;
   * a CIDR with host bits (accepted before v0.2.1) is used as its network, with a warning.
   */
  readonly origin?: 'file' | 'cluster';
}

/** Validates one ClusterNetworkPolicy object and normalises it. */
export function parseClusterNetworkPolicy(raw: unknown, options: ParseOptions = {}): CnpResult {
  const diagnostics: Diagnostic[] = [];
  const fromCluster = options.origin === 'cluster';
  const root = new Checker(diagnostics, '');
  const obj = asObject(raw, root);
  if (obj === undefined) return { policy: undefined, diagnostics };

  const apiVersion = obj['apiVersion'];
  const versions = CNP_VERSIONS.map((v) => `${CNP_GROUP}/${v}`);
  if (typeof apiVersion !== 'string' || !versions.includes(apiVersion)) {
    root.field('apiVersion').error(`must be one of ${versions.join(', ')}, got ${JSON.stringify(apiVersion)}`);
  }
  if (obj['kind'] !== CNP_KIND) root.field('kind').error(`must be ${CNP_KIND}`);
  rejectUnknown(obj, root, ['apiVersion', 'kind', 'metadata', 'spec', 'status']);

  const meta = parseMetadata(obj['metadata'], root.field('metadata'));
  const specChecker = root.field('spec');
  if (obj['spec'] === undefined) {
    specChecker.error('is required');
    return { policy: undefined, diagnostics };
  }
  const spec = asObject(obj['spec'], specChecker);
  if (spec === undefined) return { policy: undefined, diagnostics };
  rejectUnknown(spec, specChecker, ['tier', 'priority', 'subject', 'ingress', 'egress']);

  const tier = required(spec, specChecker, 'tier', (v, c) => asEnum(v, c, TIERS));
  const priority = required(spec, specChecker, 'priority', (v, c) => asInteger(v, c, 0, MAX_PRIORITY));
  const subject = required(spec, specChecker, 'subject', parseSubject);
  const ingress = parseRules(spec['ingress'], specChecker.field('ingress'), 'ingress', fromCluster);
  const egress = parseRules(spec['egress'], specChecker.field('egress'), 'egress', fromCluster);

  if (hasErrors(diagnostics) || meta === undefined || tier === undefined || priority === undefined || subject === undefined) {
    return { policy: undefined, diagnostics };
  }
  return {
    policy: { name: meta.name, uid: meta.uid, generation: meta.generation, tier, priority, subject, ingress, egress },
    diagnostics,
  };
}

function required<T>(obj: JsonObject, c: Checker, key: string, parse: (v: unknown, c: Checker) => T | undefined): T | undefined {
  if (obj[key] === undefined || obj[key] === null) {
    c.field(key).error('is required');
    return undefined;
  }
  return parse(obj[key], c.field(key));
}

interface Meta {
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
}

function parseMetadata(raw: unknown, c: Checker): Meta | undefined {
  if (raw === undefined) {
    c.error('is required');
    return undefined;
  }
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const name = required(obj, c, 'name', asString);
  if (name === undefined) return undefined;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    c.field('name').error(`${JSON.stringify(name)} is not a valid name (a lowercase DNS subdomain: a-z, 0-9, '-', '.', at most 253 characters)`);
    return undefined;
  }
  const uid = typeof obj['uid'] === 'string' ? obj['uid'] : undefined;
  const generation = typeof obj['generation'] === 'number' ? obj['generation'] : undefined;
  return { name, uid, generation };
}

/** A pod set, or the selector problems Kubernetes would refuse (see parseSelectorLenient). */
type PodSetPart = { ok: PodSet } | { refused: readonly string[] } | undefined;

function parsePodSet(raw: unknown, c: Checker): PodSetPart {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['namespaceSelector', 'podSelector']);
  // An omitted namespaceSelector means every namespace (unlike NetworkPolicy).
  const namespaces =
    obj['namespaceSelector'] === undefined || obj['namespaceSelector'] === null
      ? { selector: EMPTY_SELECTOR, refused: [] }
      : parseSelectorLenient(obj['namespaceSelector'], c.field('namespaceSelector'));
  if (obj['podSelector'] === undefined || obj['podSelector'] === null) {
    c.field('podSelector').error('is required');
    return undefined;
  }
  const pods = parseSelectorLenient(obj['podSelector'], c.field('podSelector'));
  const refused = [...namespaces.refused, ...pods.refused];
  if (refused.length > 0) return { refused };
  return namespaces.selector === undefined || pods.selector === undefined ? undefined : { ok: { namespaces: namespaces.selector, pods: pods.selector } };
}

function namespacesOnly(raw: unknown, c: Checker): PodSetPart {
  const ns = parseSelectorLenient(raw, c);
  if (ns.refused.length > 0) return { refused: ns.refused };
  return ns.selector === undefined ? undefined : { ok: { namespaces: ns.selector, pods: EMPTY_SELECTOR } };
}

/**
 * The subject. A selector Kubernetes refuses has no meaning to enforce, and no safe fail-closed
 * reading (denying for every pod would be worse): the policy is reported and not enforced.
 */
function parseSubject(raw: unknown, c: Checker): PodSet | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['namespaces', 'pods']);
  const which = exactlyOne(obj, c, ['namespaces', 'pods'], 'subject');
  const part = which === 'namespaces' ? namespacesOnly(obj['namespaces'], c.field('namespaces')) : which === 'pods' ? parsePodSet(obj['pods'], c.field('pods')) : undefined;
  if (part === undefined) return undefined;
  if ('refused' in part) {
    for (const r of part.refused) c.unsupported(`${r}: Kubernetes refuses this selector, so no pods can be chosen by it; the policy is not enforced`);
    return undefined;
  }
  return part.ok;
}

function parseRules(raw: unknown, c: Checker, direction: Direction, fromCluster: boolean): Rule[] {
  if (raw === undefined || raw === null) return [];
  const list = asList(raw, c, 0, MAX_RULES);
  if (list === undefined) return [];
  const rules: Rule[] = [];
  list.forEach((item, i) => {
    const rule = parseRule(item, c.index(i), i, direction, fromCluster);
    if (rule !== undefined) rules.push(rule);
  });
  return rules;
}

/** What parsing a peer or protocol entry yields: a value, an error, or something we do not understand. */
type Part<T> = { ok: T } | { unsupported: string } | undefined;

function parseRule(raw: unknown, c: Checker, index: number, direction: Direction, fromCluster: boolean): Rule | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const peerKey = direction === 'ingress' ? 'from' : 'to';
  rejectUnknown(obj, c, ['name', 'action', peerKey, 'protocols']);
  let name: string | undefined;
  if (obj['name'] !== undefined && obj['name'] !== null) {
    name = asString(obj['name'], c.field('name'));
    if (name !== undefined && name.length > MAX_RULE_NAME) {
      c.field('name').error(`must be at most ${MAX_RULE_NAME} characters, got ${name.length}`);
    }
  }
  const action = required(obj, c, 'action', (v, cc) => asEnum(v, cc, ACTIONS));

  const unsupported: string[] = [];
  const peers: Peer[] = [];
  let peersOk = true;
  const pc = c.field(peerKey);
  if (obj[peerKey] === undefined || obj[peerKey] === null) {
    pc.error('is required');
    peersOk = false;
  } else {
    const list = asList(obj[peerKey], pc, 1, MAX_PEERS);
    if (list === undefined) peersOk = false;
    list?.forEach((item, i) => {
      const part = parsePeer(item, pc.index(i), direction, fromCluster);
      if (part === undefined) peersOk = false;
      else if ('ok' in part) peers.push(part.ok);
      else unsupported.push(`${peerKey}[${i}]: ${part.unsupported}`);
    });
  }

  let ports: PortMatch[] | undefined;
  let hasNamedPort = false;
  let protocolsOk = true;
  if (obj['protocols'] !== undefined && obj['protocols'] !== null) {
    const prc = c.field('protocols');
    const list = asList(obj['protocols'], prc, 1, MAX_PROTOCOLS);
    if (list === undefined) protocolsOk = false;
    ports = [];
    list?.forEach((item, i) => {
      const part = parseProtocol(item, prc.index(i), fromCluster);
      if (part === undefined) protocolsOk = false;
      else if ('ok' in part) {
        if (part.ok.kind === 'named') hasNamedPort = true;
        // No container port has an empty name: the entry matches nothing, exactly.
        if (part.ok.kind === 'named' && part.ok.name === '') prc.index(i).field('destinationNamedPort').warning('an empty name matches no port; this entry never matches');
        else ports!.push(part.ok);
      } else unsupported.push(`protocols[${i}]: ${part.unsupported}`);
    });
  }

  // The experimental CRD's CEL rule: named ports exist only on pods.
  if (direction === 'egress' && hasNamedPort && peers.some((p) => p.kind !== 'pods')) {
    c.error('networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames');
    protocolsOk = false;
  }
  // Documented (NPEP-133) but not in the CRD, so the API server stores it: domainNames only in
  // Accept rules. A Deny or Pass naming domains has no defined meaning; it fails closed.
  if (action !== undefined && action !== 'Accept' && peers.some((p) => p.kind === 'domainNames')) {
    unsupported.push(`domainNames peers may only be used in Accept rules, got ${action}`);
  }

  if (action === undefined || !peersOk || !protocolsOk) return undefined;
  // Every protocol entry named an empty port: the rule never matches (exactly, not fail-closed).
  if (ports !== undefined && ports.length === 0 && unsupported.length === 0) {
    c.warning('no protocol entry can match, so this rule never matches');
    return { index, name, action, peers: [], ports: undefined };
  }
  if (unsupported.length > 0) {
    for (const u of unsupported) c.unsupported(`${u}; the rule fails closed (${action === 'Accept' ? 'it matches no traffic' : 'it denies all traffic'})`);
    return failClosedRule(index, name, action, unsupported.join('; '));
  }
  return { index, name, action, peers, ports };
}

/** Accept → matches nothing; Deny or Pass → denies everything at its position (upstream's "fail closed"). */
export function failClosedRule(index: number, name: string | undefined, action: Action, reason: string): Rule {
  return action === 'Accept'
    ? { index, name, action: 'Accept', peers: [], ports: undefined, failClosed: reason }
    : { index, name, action: 'Deny', peers: [{ kind: 'all' }], ports: undefined, failClosed: reason };
}

/**
 * How many keys of a one-of object (a peer, a protocol entry) are set, and those outside
 * `known` (undefined when none: every peer and protocol entry of every policy comes here).
 */
function setKeys(obj: JsonObject, known: readonly string[]): { setCount: number; foreign: string[] | undefined } {
  let setCount = 0;
  let foreign: string[] | undefined;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k) || obj[k] === undefined || obj[k] === null) continue;
    setCount++;
    if (!known.includes(k)) (foreign ??= []).push(k);
  }
  return { setCount, foreign };
}

function parsePeer(raw: unknown, c: Checker, direction: Direction, fromCluster: boolean): Part<Peer> {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const known: readonly string[] = direction === 'ingress' ? INGRESS_PEERS : EGRESS_PEERS;
  const { setCount, foreign } = setKeys(obj, known);
  if (fromCluster && foreign?.length === 1 && setCount === 1) return { unsupported: `unknown peer type ${JSON.stringify(foreign[0])}` };
  for (const k of foreign ?? []) c.field(k).error(`unknown field (a ${direction} peer sets one of ${known.join(', ')})`);
  const which = exactlyOne(obj, c, known, 'peer');
  if (which === undefined || foreign !== undefined) return undefined;
  const fc = c.field(which);
  const selected = (part: PodSetPart): Part<Peer> => {
    if (part === undefined) return undefined;
    if ('refused' in part) return { unsupported: `${part.refused.join('; ')} (Kubernetes refuses this selector)` };
    return { ok: { kind: 'pods', pods: part.ok } };
  };
  switch (which) {
    case 'namespaces':
      return selected(namespacesOnly(obj[which], fc));
    case 'pods':
      return selected(parsePodSet(obj[which], fc));
    case 'nodes': {
      const nodes = parseSelectorLenient(obj[which], fc);
      if (nodes.refused.length > 0) return { unsupported: `${nodes.refused.join('; ')} (Kubernetes refuses this selector)` };
      return nodes.selector === undefined ? undefined : { ok: { kind: 'nodes', nodes: nodes.selector } };
    }
    case 'networks': {
      const cidrs = parseNetworks(obj[which], fc, fromCluster);
      return cidrs === undefined ? undefined : { ok: { kind: 'networks', cidrs } };
    }
    case 'domainNames': {
      const names = parseDomainNames(obj[which], fc);
      return names === undefined ? undefined : { ok: { kind: 'domainNames', names } };
    }
  }
  return undefined;
}

function parseNetworks(raw: unknown, c: Checker, fromCluster: boolean): Cidr[] | undefined {
  const list = asList(raw, c, 1, MAX_LIST);
  if (list === undefined) return undefined;
  const cidrs: Cidr[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  list.forEach((item, i) => {
    const ic = c.index(i);
    const text = asString(item, ic);
    if (text === undefined) {
      ok = false;
      return;
    }
    if (text.length > MAX_CIDR_LENGTH) {
      ic.error(`must be at most ${MAX_CIDR_LENGTH} characters`);
      ok = false;
      return;
    }
    if (seen.has(text)) {
      ic.error(`duplicate of networks[${seen.get(text)}] (the list is a set)`);
      ok = false;
      return;
    }
    seen.set(text, i);
    const parsed = parseCidr(text);
    // The CRD's rule is isCIDR(self) && cidr(self) == cidr(self).masked(), with this message;
    // the reason after it is ours.
    const why =
      parsed === undefined ? 'not an address/prefix-length'
      : parsed.ipv4Mapped ? 'an IPv4-mapped IPv6 address is not allowed; write the IPv4 CIDR'
      : parsed.hadHostBits && !fromCluster ? `host bits are set; the network is ${parsed.cidr.text}`
      : undefined;
    if (why === undefined) {
      if (parsed!.hadHostBits) ic.warning(`${text} has host bits set (stored before network-policy-api v0.2.1 made CIDRs canonical); it is used as ${parsed!.cidr.text}`);
      cidrs.push(parsed!.cidr);
    } else {
      ic.error(`Invalid CIDR format provided: ${JSON.stringify(text)} (${why})`);
      ok = false;
    }
  });
  return ok ? cidrs : undefined;
}

function parseDomainNames(raw: unknown, c: Checker): string[] | undefined {
  const list = asList(raw, c, 1, MAX_LIST);
  if (list === undefined) return undefined;
  const names: string[] = [];
  let ok = true;
  list.forEach((item, i) => {
    const ic = c.index(i);
    const text = asString(item, ic);
    if (text === undefined) {
      ok = false;
    } else if (!DOMAIN_NAME.test(text)) {
      ic.error(`${JSON.stringify(text)} is not a valid domain name (labels of letters, digits, '-' and '_', optionally starting with "*.")`);
      ok = false;
    } else if (names.includes(text)) {
      ic.error(`duplicate domain name ${JSON.stringify(text)} (the list is a set)`);
      ok = false;
    } else names.push(text);
  });
  return ok ? names : undefined;
}

function parseProtocol(raw: unknown, c: Checker, fromCluster: boolean): Part<PortMatch> {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const { setCount, foreign } = setKeys(obj, PROTOCOL_KEYS);
  if (fromCluster && setCount === 1 && foreign?.length === 1) return { unsupported: `unknown protocol ${JSON.stringify(foreign[0])}` };
  for (const k of foreign ?? []) c.field(k).error(`unknown field (a protocol entry sets one of ${PROTOCOL_KEYS.join(', ')})`);
  const which = exactlyOne(obj, c, PROTOCOL_KEYS, 'protocol entry');
  if (which === undefined || foreign !== undefined) return undefined;
  const fc = c.field(which);
  if (which === 'destinationNamedPort') {
    const name = asString(obj[which], fc);
    if (name === undefined) return undefined;
    return { ok: { kind: 'named', name } };
  }
  const protocol = which.toUpperCase() as Protocol;
  const body = asObject(obj[which], fc);
  if (body === undefined) return undefined;
  rejectUnknown(body, fc, ['destinationPort']);
  if (body['destinationPort'] === undefined || body['destinationPort'] === null) {
    // The CRD's minProperties: 1 makes destinationPort required.
    fc.error('must set destinationPort (use a range 1-65535 for every port)');
    return undefined;
  }
  const dc = fc.field('destinationPort');
  const port = asObject(body['destinationPort'], dc);
  if (port === undefined) return undefined;
  const kind = exactlyOne(port, dc, ['number', 'range'], 'destinationPort');
  rejectUnknown(port, dc, ['number', 'range']);
  if (kind === 'number') {
    const n = asInteger(port['number'], dc.field('number'), 1, 65535);
    return n === undefined ? undefined : { ok: { kind: 'range', protocol, start: n, end: n } };
  }
  if (kind === 'range') {
    const rc = dc.field('range');
    const range = asObject(port['range'], rc);
    if (range === undefined) return undefined;
    rejectUnknown(range, rc, ['start', 'end']);
    const start = required(range, rc, 'start', (v, cc) => asInteger(v, cc, 1, 65535));
    const end = required(range, rc, 'end', (v, cc) => asInteger(v, cc, 1, 65535));
    if (start === undefined || end === undefined) return undefined;
    if (!(start < end)) {
      rc.error(`Start port must be less than End port (start ${start}, end ${end})`);
      return undefined;
    }
    return { ok: { kind: 'range', protocol, start, end } };
  }
  return undefined;
}

