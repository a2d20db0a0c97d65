import type { Checker } from '../diagnostics.js';
import { parseSelector } from '../labels.js';
import { asList, asObject, asString, exactlyOne, isObject, rejectUnknown, type JsonObject } from '../values.js';
import { isSet, requiredField } from './fields.js';
import type { LabelSelectorObject, NamespacedPodObject, PeerObject, SubjectObject } from './cnp-object.js';
import { LABEL_SELECTOR_KEYS, NAMESPACED_PEER_KEYS } from './v1alpha1.js';

// Subjects and peers map one to one: v1alpha1 and ClusterNetworkPolicy select the same pods with
// the same metav1.LabelSelector semantics (`{}` selects everything, host-network pods are never
// included). Only the v0.1.0–v0.1.1 `namespaces: {sameLabels | notSameLabels}` has no counterpart.

/** The CNP list limit for networks and domainNames; v1alpha1 has the same (25). */
const MAX_LIST = 25;

/** A validated copy of a metav1.LabelSelector with only the keys the input sets. */
export function convertSelector(raw: unknown, c: Checker): LabelSelectorObject | undefined {
  if (parseSelector(raw, c) === undefined) return undefined;
  const obj = raw as JsonObject;
  const out: LabelSelectorObject = {};
  if (isObject(obj['matchLabels'])) out.matchLabels = { ...(obj['matchLabels'] as Record<string, string>) };
  if (Array.isArray(obj['matchExpressions'])) {
    out.matchExpressions = (obj['matchExpressions'] as JsonObject[]).map((e) => ({
      key: e['key'] as string,
      operator: e['operator'] as string,
      ...(Array.isArray(e['values']) ? { values: [...(e['values'] as string[])] } : {}),
    }));
  }
  return out;
}

/** `spec.subject`: the same two forms in both APIs. */
export function convertSubject(raw: unknown, c: Checker): SubjectObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['namespaces', 'pods']);
  const which = exactlyOne(obj, c, ['namespaces', 'pods'], 'subject');
  if (which === 'namespaces') {
    const namespaces = convertSelector(obj['namespaces'], c.field('namespaces'));
    return namespaces === undefined ? undefined : { namespaces };
  }
  if (which === 'pods') {
    const pods = newPods(obj['pods'], c.field('pods'), 'a subject');
    return pods === undefined ? undefined : { pods };
  }
  return undefined;
}

/**
 * `{namespaceSelector, podSelector}`, both required in v1alpha1 (an empty namespaceSelector selects
 * every namespace, which is what an omitted one means in ClusterNetworkPolicy; it is written out).
 */
function newPods(raw: unknown, c: Checker, where: string): NamespacedPodObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['namespaceSelector', 'podSelector']);
  const ns = requiredField(obj, c, 'namespaceSelector', `v1alpha1 pods in ${where} name their namespaces; {} selects every namespace`);
  const pods = requiredField(obj, c, 'podSelector', `{} selects every pod`);
  const namespaceSelector = ns === undefined ? undefined : convertSelector(ns, c.field('namespaceSelector'));
  const podSelector = pods === undefined ? undefined : convertSelector(pods, c.field('podSelector'));
  return namespaceSelector === undefined || podSelector === undefined ? undefined : { namespaceSelector, podSelector };
}

/** The v0.1.0–v0.1.1 `NamespacedPeer`: exactly one of namespaceSelector, sameLabels, notSameLabels. */
function namespacedPeer(raw: unknown, c: Checker): LabelSelectorObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, NAMESPACED_PEER_KEYS);
  const which = exactlyOne(obj, c, NAMESPACED_PEER_KEYS, 'a v1alpha1 namespaces peer');
  if (which === 'sameLabels' || which === 'notSameLabels') {
    // Tenancy selects namespaces by their label values relative to the subject's namespace: no fixed
    // selector can say that, and ClusterNetworkPolicy dropped it (tenancy moved to NPEP-122).
    c.field(which).error(
      `cannot be converted exactly: ClusterNetworkPolicy has no ${which} (namespaces chosen relative to the subject's own namespace labels); ` +
        'write one policy per tenant with explicit namespace selectors instead',
    );
    return undefined;
  }
  if (which === 'namespaceSelector') return convertSelector(obj[which], c.field(which));
  return undefined;
}

function setKeys(obj: JsonObject): string[] {
  return Object.keys(obj).filter((k) => isSet(obj[k]));
}

/** `namespaces` in either shape: a NamespacedPeer (v0.1.0–v0.1.1) or a LabelSelector (later). */
function namespacesPeer(raw: unknown, c: Checker): LabelSelectorObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const keys = setKeys(obj);
  const early = keys.filter((k) => (NAMESPACED_PEER_KEYS as readonly string[]).includes(k));
  const late = keys.filter((k) => (LABEL_SELECTOR_KEYS as readonly string[]).includes(k));
  if (early.length > 0 && late.length > 0) {
    c.error(`mixes ${early.join(', ')} (the v0.1.0–v0.1.1 shape) with ${late.join(', ')} (a label selector, the later shape); no v1alpha1 release accepts both`);
    return undefined;
  }
  return early.length > 0 ? namespacedPeer(obj, c) : convertSelector(obj, c);
}

/** `pods` in either shape: `{namespaces: NamespacedPeer, podSelector}` (v0.1.0–v0.1.1) or `{namespaceSelector, podSelector}`. */
function podsPeer(raw: unknown, c: Checker): NamespacedPodObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  if (!isSet(obj['namespaces'])) return newPods(obj, c, 'a peer');
  if (isSet(obj['namespaceSelector'])) {
    c.error('sets both namespaces (the v0.1.0–v0.1.1 shape) and namespaceSelector (the later shape); no v1alpha1 release accepts both');
    return undefined;
  }
  rejectUnknown(obj, c, ['namespaces', 'podSelector']);
  const namespaceSelector = namespacedPeer(obj['namespaces'], c.field('namespaces'));
  const pods = requiredField(obj, c, 'podSelector', '{} selects every pod');
  const podSelector = pods === undefined ? undefined : convertSelector(pods, c.field('podSelector'));
  return namespaceSelector === undefined || podSelector === undefined ? undefined : { namespaceSelector, podSelector };
}

function stringList(raw: unknown, c: Checker): string[] | undefined {
  const list = asList(raw, c, 1, MAX_LIST);
  if (list === undefined) return undefined;
  const out: string[] = [];
  let ok = list.length >= 1 && list.length <= MAX_LIST;
  list.forEach((item, i) => {
    const s = asString(item, c.index(i));
    if (s === undefined) ok = false;
    else out.push(s);
  });
  // Their syntax (CIDRs, domain names) is checked once, on the converted object.
  return ok ? out : undefined;
}

/**
 * One peer of a rule. `allowed` is the peer types of this kind and direction; a peer with none set
 * (v1alpha1: "fail closed") is refused, because its fail-closed reading is not something to copy.
 */
export function convertPeer(raw: unknown, c: Checker, allowed: readonly string[], what: string): PeerObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const keys = setKeys(obj);
  if (keys.length === 0) {
    c.error('sets no peer type: v1alpha1 reads such a peer as an unknown one and fails closed; refused rather than converted to a guess');
    return undefined;
  }
  const foreign = keys.filter((k) => !allowed.includes(k));
  for (const k of foreign) c.field(k).error(`unknown field (${what} sets one of ${allowed.join(', ')})`);
  const which = exactlyOne(obj, c, allowed, 'a peer');
  if (which === undefined || foreign.length > 0) return undefined;
  const fc = c.field(which);
  switch (which) {
    case 'namespaces': {
      const namespaces = namespacesPeer(obj[which], fc);
      return namespaces === undefined ? undefined : { namespaces };
    }
    case 'pods': {
      const pods = podsPeer(obj[which], fc);
      return pods === undefined ? undefined : { pods };
    }
    case 'nodes': {
      const nodes = convertSelector(obj[which], fc);
      return nodes === undefined ? undefined : { nodes };
    }
    case 'networks': {
      const networks = stringList(obj[which], fc);
      return networks === undefined ? undefined : { networks };
    }
    case 'domainNames': {
      const domainNames = stringList(obj[which], fc);
      return domainNames === undefined ? undefined : { domainNames };
    }
  }
  return undefined;
}
