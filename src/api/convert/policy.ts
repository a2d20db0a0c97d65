import { parseClusterNetworkPolicy } from '../cnp.js';
import { Checker, hasErrors, type Diagnostic } from '../diagnostics.js';
import type { Tier } from '../model.js';
import { asEnum, asList, asObject, asString, describe, rejectUnknown, type JsonObject } from '../values.js';
import {
  CNP_API_VERSION,
  type ClusterNetworkPolicyObject,
  type CnpAction,
  type EgressRuleObject,
  type IngressRuleObject,
  type PeerObject,
  type ProtocolObject,
} from './cnp-object.js';
import { isSet, requiredField } from './fields.js';
import { convertPeer, convertSubject } from './peers.js';
import { convertPorts } from './ports.js';
import {
  ANP_ACTIONS,
  ANP_EGRESS_PEER_KEYS,
  ANP_KIND,
  ANP_PRIORITY_MAX,
  ANP_PRIORITY_MIN,
  BANP_ACTIONS,
  BANP_EGRESS_PEER_KEYS,
  BANP_KIND,
  BANP_NAME,
  INGRESS_PEER_KEYS,
  V1ALPHA1,
  V1ALPHA1_MAX_ITEMS,
  type SourceKind,
} from './v1alpha1.js';

// One AdminNetworkPolicy or BaselineAdminNetworkPolicy → one ClusterNetworkPolicy.
//
// Semantics checked against both APIs' documentation: an ANP is evaluated before NetworkPolicy in
// priority order, and so is an Admin-tier CNP; the BANP after NetworkPolicy, as a Baseline-tier CNP.
// ANP Allow ("allows the selected traffic, even if it would otherwise have been denied by
// NetworkPolicy") is CNP Accept; ANP Pass ("skip any remaining ANP rules, then NetworkPolicy, then
// the BANP") is Admin-tier Pass, which goes to NetworkPolicy and then the Baseline tier; BANP Allow
// and Deny are final as Baseline Accept and Deny are. Rules are first-match in written order in both;
// policies without rules in a direction leave it alone in both; neither has implicit isolation.

/** The CNP's limits (v0.3.0 CRD). */
const CNP_MAX_RULES = 25;
const CNP_MAX_PEERS = 25;
const CNP_MAX_RULE_NAME = 100;

/**
 * The BANP has no priority and a Baseline CNP needs one. Any value gives the same verdicts while the
 * converted BANP is the only Baseline CNP (the BANP was the only baseline policy); 10 is what upstream's
 * own migration examples use (the CNP blog post's user story 5, the conformance suite's `default`).
 */
export const DEFAULT_BASELINE_PRIORITY = 10;

export interface ConvertOptions {
  /** The priority given to the converted BaselineAdminNetworkPolicy (0–1000). */
  readonly baselinePriority: number;
}

export interface PolicyConversion {
  /** The ClusterNetworkPolicy; undefined when the object is refused. */
  readonly policy: ClusterNetworkPolicyObject | undefined;
  readonly kind: SourceKind | undefined;
  readonly name: string | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** Why the baseline priority option is unusable, or undefined. */
export function baselinePriorityProblem(priority: number): string | undefined {
  if (!Number.isInteger(priority) || priority < 0 || priority > 1000) return `must be an integer from 0 to 1000 (a ClusterNetworkPolicy priority), got ${priority}`;
  return undefined;
}

const KEPT_ANNOTATION_EXCLUDED = 'kubectl.kubernetes.io/last-applied-configuration';

function stringMap(raw: unknown, c: Checker): Record<string, string> | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string') c.field(k).error(`must be a string, got ${describe(v)}`);
    else out[k] = v;
  }
  return out;
}

interface Meta {
  readonly name: string;
  readonly labels: Record<string, string> | undefined;
  readonly annotations: Record<string, string> | undefined;
}

/**
 * The name is kept, and labels and annotations are carried over. Everything the API server set on the
 * old object (uid, resourceVersion, generation, managedFields, …) describes that object, not the new
 * one, and so does kubectl's last-applied-configuration annotation: they are left out.
 */
function convertMetadata(raw: unknown, c: Checker, kind: SourceKind): Meta | undefined {
  if (!isSet(raw)) {
    c.error('is required');
    return undefined;
  }
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const rawName = requiredField(obj, c, 'name', 'the ClusterNetworkPolicy keeps it');
  const name = rawName === undefined ? undefined : asString(rawName, c.field('name'));
  if (name !== undefined && kind === BANP_KIND && name !== BANP_NAME) {
    c.field('name').error(
      `a BaselineAdminNetworkPolicy can only be named "${BANP_NAME}" (its CRD: "Only one baseline admin network policy with metadata.name=\\"default\\" can be created"); ` +
        `${JSON.stringify(name)} was never a valid one`,
    );
    return undefined;
  }
  const labels = isSet(obj['labels']) ? stringMap(obj['labels'], c.field('labels')) : undefined;
  let annotations = isSet(obj['annotations']) ? stringMap(obj['annotations'], c.field('annotations')) : undefined;
  if (annotations !== undefined) {
    const { [KEPT_ANNOTATION_EXCLUDED]: _lastApplied, ...rest } = annotations;
    annotations = Object.keys(rest).length > 0 ? rest : undefined;
  }
  return name === undefined ? undefined : { name, labels, annotations };
}

function convertPriority(spec: JsonObject, c: Checker): number | undefined {
  const raw = requiredField(spec, c, 'priority', `AdminNetworkPolicy priority, ${ANP_PRIORITY_MIN} to ${ANP_PRIORITY_MAX}`);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw)) {
    c.field('priority').error(`must be an integer, got ${describe(raw)}`);
    return undefined;
  }
  // Both APIs bound priority to 0–1000, so every valid ANP priority is kept as it is; anything
  // else was never a valid ANP and is refused, never clamped (clamping would reorder policies).
  if (raw < ANP_PRIORITY_MIN || raw > ANP_PRIORITY_MAX) {
    c.field('priority').error(`${raw} is outside ${ANP_PRIORITY_MIN}–${ANP_PRIORITY_MAX}, the range of both AdminNetworkPolicy and ClusterNetworkPolicy; refused, not clamped`);
    return undefined;
  }
  return raw;
}

const ACTION_MAP: Record<string, CnpAction> = { Allow: 'Accept', Deny: 'Deny', Pass: 'Pass' };

interface RuleParts {
  readonly name: string | undefined;
  readonly action: CnpAction;
  readonly peers: PeerObject[];
  readonly protocols: ProtocolObject[] | undefined;
}

function convertRule(raw: unknown, c: Checker, direction: 'ingress' | 'egress', kind: SourceKind): RuleParts | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  const peerKey = direction === 'ingress' ? 'from' : 'to';
  rejectUnknown(obj, c, ['name', 'action', peerKey, 'ports']);

  let name: string | undefined;
  if (isSet(obj['name'])) {
    name = asString(obj['name'], c.field('name'));
    if (name !== undefined && name.length > CNP_MAX_RULE_NAME) {
      c.field('name').error(`must be at most ${CNP_MAX_RULE_NAME} characters, got ${name.length}`);
      name = undefined;
    }
    if (name === '') name = undefined; // `name: ""` is no name (Go's omitempty)
  }

  const rawAction = requiredField(obj, c, 'action', kind === ANP_KIND ? 'Allow, Deny or Pass' : 'Allow or Deny');
  // A BANP has no Pass: its enum is Allow and Deny.
  const action = rawAction === undefined ? undefined : asEnum(rawAction, c.field('action'), kind === ANP_KIND ? ANP_ACTIONS : BANP_ACTIONS);

  const allowed = direction === 'ingress' ? INGRESS_PEER_KEYS : kind === ANP_KIND ? ANP_EGRESS_PEER_KEYS : BANP_EGRESS_PEER_KEYS;
  const pc = c.field(peerKey);
  const rawPeers = requiredField(obj, c, peerKey, 'at least one peer');
  let peers: PeerObject[] | undefined;
  if (rawPeers !== undefined) {
    const list = asList(rawPeers, pc, 1, Number.MAX_SAFE_INTEGER);
    if (list !== undefined && list.length > CNP_MAX_PEERS) {
      pc.error(`has ${list.length} peers; a ClusterNetworkPolicy rule has at most ${CNP_MAX_PEERS} (v1alpha1 allowed ${V1ALPHA1_MAX_ITEMS}): split the rule yourself`);
    } else if (list !== undefined && list.length > 0) {
      const converted = list.map((item, i) => convertPeer(item, pc.index(i), allowed, `a ${kind} ${direction} peer`));
      if (converted.every((p) => p !== undefined)) peers = converted as PeerObject[];
    }
  }

  // v1alpha1: "DomainNames is only supported for ALLOW rules" (documented, never enforced); such a
  // rule has no defined meaning to carry over, and a ClusterNetworkPolicy would fail closed on it.
  if (action !== undefined && action !== 'Allow' && peers?.some((p) => 'domainNames' in p)) {
    c.field('action').error(`is ${action}, but v1alpha1 supports domainNames peers only in Allow rules (and a ClusterNetworkPolicy only in Accept rules)`);
    return undefined;
  }

  // Unset ports: the rule matches every port and protocol, as an unset `protocols` does.
  const protocols = isSet(obj['ports']) ? convertPorts(obj['ports'], c.field('ports')) : undefined;
  if (action === undefined || peers === undefined || (isSet(obj['ports']) && protocols === undefined)) return undefined;
  return { name, action: ACTION_MAP[action]!, peers, protocols };
}

function convertRules(raw: unknown, c: Checker, direction: 'ingress' | 'egress', kind: SourceKind): RuleParts[] | undefined {
  if (!isSet(raw)) return [];
  const list = asList(raw, c, 0, Number.MAX_SAFE_INTEGER);
  if (list === undefined) return undefined;
  if (list.length > CNP_MAX_RULES) {
    c.error(`has ${list.length} rules; a ClusterNetworkPolicy has at most ${CNP_MAX_RULES} per direction (v1alpha1 allowed ${V1ALPHA1_MAX_ITEMS}): split the policy yourself`);
    return undefined;
  }
  const rules = list.map((item, i) => convertRule(item, c.index(i), direction, kind));
  return rules.every((r) => r !== undefined) ? (rules as RuleParts[]) : undefined;
}

function ingressRule(r: RuleParts): IngressRuleObject {
  return { ...(r.name === undefined ? {} : { name: r.name }), action: r.action, from: r.peers, ...(r.protocols === undefined ? {} : { protocols: r.protocols }) };
}

function egressRule(r: RuleParts): EgressRuleObject {
  return { ...(r.name === undefined ? {} : { name: r.name }), action: r.action, to: r.peers, ...(r.protocols === undefined ? {} : { protocols: r.protocols }) };
}

function refused(kind: SourceKind | undefined, name: string | undefined, diagnostics: readonly Diagnostic[]): PolicyConversion {
  return { policy: undefined, kind, name, diagnostics };
}

/** Converts one v1alpha1 object; anything that cannot be converted exactly is refused with its field path. */
export function convertPolicy(raw: unknown, options: ConvertOptions): PolicyConversion {
  const diagnostics: Diagnostic[] = [];
  const root = new Checker(diagnostics, '');
  const obj = asObject(raw, root);
  if (obj === undefined) return refused(undefined, undefined, diagnostics);
  const rawKind = obj['kind'];
  if (rawKind !== ANP_KIND && rawKind !== BANP_KIND) {
    root.field('kind').error(`${describe(rawKind)} is not ${ANP_KIND} or ${BANP_KIND}: convert reads only those (${V1ALPHA1})`);
    return refused(undefined, undefined, diagnostics);
  }
  const kind: SourceKind = rawKind;
  if (obj['apiVersion'] !== V1ALPHA1) {
    root.field('apiVersion').error(`must be ${V1ALPHA1} for a ${kind}, got ${describe(obj['apiVersion'])}`);
    return refused(kind, undefined, diagnostics);
  }
  rejectUnknown(obj, root, ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = convertMetadata(obj['metadata'], root.field('metadata'), kind);

  const sc = root.field('spec');
  if (!isSet(obj['spec'])) {
    sc.error('is required');
    return refused(kind, meta?.name, diagnostics);
  }
  const spec = asObject(obj['spec'], sc);
  if (spec === undefined) return refused(kind, meta?.name, diagnostics);
  // A BANP has no priority field: one set there is an unknown field, not a priority to keep.
  rejectUnknown(spec, sc, kind === ANP_KIND ? ['priority', 'subject', 'ingress', 'egress'] : ['subject', 'ingress', 'egress']);
  const priority = kind === ANP_KIND ? convertPriority(spec, sc) : options.baselinePriority;
  const rawSubject = requiredField(spec, sc, 'subject', 'the pods the policy applies to');
  const subject = rawSubject === undefined ? undefined : convertSubject(rawSubject, sc.field('subject'));
  const ingress = convertRules(spec['ingress'], sc.field('ingress'), 'ingress', kind);
  const egress = convertRules(spec['egress'], sc.field('egress'), 'egress', kind);

  if (hasErrors(diagnostics) || meta === undefined || priority === undefined || subject === undefined || ingress === undefined || egress === undefined) {
    return refused(kind, meta?.name, diagnostics);
  }
  const tier: Tier = kind === ANP_KIND ? 'Admin' : 'Baseline';
  const policy: ClusterNetworkPolicyObject = {
    apiVersion: CNP_API_VERSION,
    kind: 'ClusterNetworkPolicy',
    metadata: {
      name: meta.name,
      ...(meta.labels === undefined ? {} : { labels: meta.labels }),
      ...(meta.annotations === undefined ? {} : { annotations: meta.annotations }),
    },
    spec: {
      tier,
      priority,
      subject,
      ...(ingress.length === 0 ? {} : { ingress: ingress.map(ingressRule) }),
      ...(egress.length === 0 ? {} : { egress: egress.map(egressRule) }),
    },
  };

  // The result must be a ClusterNetworkPolicy this project accepts without a word: any diagnostic
  // (invalid CIDR or domain name, named port with a non-pod peer, domainNames outside Accept, a
  // part it would fail closed on) means the conversion is not exact, and the object is refused.
  const check = parseClusterNetworkPolicy(policy);
  const consequence = { error: 'would be invalid', unsupported: 'would fail closed', warning: 'would be read differently' } as const;
  for (const d of check.diagnostics) {
    diagnostics.push({ severity: 'error', field: d.field, message: `the converted ClusterNetworkPolicy ${consequence[d.severity]}: ${d.message}` });
  }
  if (check.diagnostics.length > 0 || check.policy === undefined) return refused(kind, meta.name, diagnostics);
  return { policy, kind, name: meta.name, diagnostics };
}
