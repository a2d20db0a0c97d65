import type { Checker } from './diagnostics.js';
import type { Operator, Requirement, Selector } from './model.js';
import { canonicalSelector, OPERATORS } from './selector.js';
import { asList, asObject, asString, describe, rejectUnknown } from './values.js';

// Label syntax is checked because selectors are written into backend selector
// languages; a key that Kubernetes would never store cannot match anything, and
// refusing it keeps odd characters out of generated Calico/Cilium selectors.
const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `label key ${JSON.stringify(key)} has an invalid prefix (a DNS subdomain of at most 253 characters)`;
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key ${JSON.stringify(key)} is not a valid label name (at most 63 characters: alphanumerics, '-', '_', '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value ${JSON.stringify(value)} is invalid (at most 63 characters: alphanumerics, '-', '_', '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

/** Reports a selector problem: as an error, or collected for the caller to decide. */
type Refuse = (c: Checker, message: string) => void;

/** Validates a metav1.LabelSelector and normalises it into requirements; every problem is an error. */
export function parseSelector(raw: unknown, c: Checker): Selector | undefined {
  return readSelector(raw, c, (cc, m) => cc.error(m));
}

export interface LenientSelector {
  /** Undefined when the selector is malformed (an error) or Kubernetes refuses it (`refused`). */
  readonly selector: Selector | undefined;
  /**
   * What Kubernetes' own selector parsing (LabelSelectorAsSelector) refuses but a CRD stores:
   * label key or value syntax, an unknown operator, values with the wrong arity. Field paths included.
   */
  readonly refused: readonly string[];
}

/**
 * For selectors in ClusterNetworkPolicies: the CRD does not check label syntax or operators, so
 * the API server stores selectors Kubernetes itself refuses. The caller decides what such a
 * selector means (a peer's rule fails closed; a subject's policy is not enforced).
 */
export function parseSelectorLenient(raw: unknown, c: Checker): LenientSelector {
  const refused: string[] = [];
  const selector = readSelector(raw, c, (cc, m) => refused.push(`${cc.path}: ${m}`));
  return { selector: refused.length > 0 ? undefined : selector, refused };
}

function readSelector(raw: unknown, c: Checker, refuse: Refuse): Selector | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['matchLabels', 'matchExpressions']);
  const reqs: Requirement[] = [];
  let ok = true;
  if (obj['matchLabels'] !== undefined && obj['matchLabels'] !== null) {
    const lc = c.field('matchLabels');
    const labels = asObject(obj['matchLabels'], lc);
    if (labels === undefined) ok = false;
    else {
      for (const key in labels) {
        if (!Object.hasOwn(labels, key)) continue;
        const value = labels[key];
        const kc = lc.field(key);
        const keyProblem = labelKeyProblem(key);
        if (keyProblem !== undefined) {
          refuse(kc, keyProblem);
          ok = false;
        }
        if (typeof value !== 'string') {
          kc.error(`label value must be a string, got ${describe(value)}`);
          ok = false;
          continue;
        }
        const valueProblem = labelValueProblem(value);
        if (valueProblem !== undefined) {
          refuse(kc, valueProblem);
          ok = false;
        }
        reqs.push({ key, operator: 'In', values: [value] });
      }
    }
  }
  if (obj['matchExpressions'] !== undefined && obj['matchExpressions'] !== null) {
    const ec = c.field('matchExpressions');
    const list = asList(obj['matchExpressions'], ec, 0, Number.MAX_SAFE_INTEGER);
    if (list === undefined) ok = false;
    else {
      list.forEach((item, i) => {
        const req = parseRequirement(item, ec.index(i), refuse);
        if (req === undefined) ok = false;
        else reqs.push(req);
      });
    }
  }
  return ok ? canonicalSelector(reqs) : undefined;
}

function parseRequirement(raw: unknown, c: Checker, refuse: Refuse): Requirement | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, ['key', 'operator', 'values']);
  let ok = true;
  const key = obj['key'] === undefined ? (c.field('key').error('is required'), undefined) : asString(obj['key'], c.field('key'));
  if (key !== undefined) {
    const problem = labelKeyProblem(key);
    if (problem !== undefined) {
      refuse(c.field('key'), problem);
      ok = false;
    }
  } else ok = false;
  let operator: Operator | undefined;
  const rawOp = obj['operator'];
  if (rawOp === undefined) {
    c.field('operator').error('is required');
  } else if (typeof rawOp === 'string' && (OPERATORS as readonly string[]).includes(rawOp)) {
    operator = rawOp as Operator;
  } else if (typeof rawOp === 'string') {
    // The CRD stores any string here; an operator we do not know can only be guessed at.
    refuse(c.field('operator'), `unknown selector operator ${JSON.stringify(rawOp)} (must be one of ${OPERATORS.join(', ')})`);
  } else {
    c.field('operator').error(`must be a string, got ${describe(rawOp)}`);
  }
  const values: string[] = [];
  if (obj['values'] !== undefined && obj['values'] !== null) {
    const vc = c.field('values');
    const list = asList(obj['values'], vc, 0, Number.MAX_SAFE_INTEGER);
    list?.forEach((v, i) => {
      const s = asString(v, vc.index(i));
      if (s === undefined) ok = false;
      else {
        const problem = labelValueProblem(s);
        if (problem !== undefined) {
          refuse(vc.index(i), problem);
          ok = false;
        }
        values.push(s);
      }
    });
    if (list === undefined) ok = false;
  }
  if (operator === 'In' || operator === 'NotIn') {
    if (values.length === 0) {
      refuse(c.field('values'), `must be non-empty when operator is ${operator}`);
      ok = false;
    }
  } else if (operator !== undefined && values.length > 0) {
    refuse(c.field('values'), `must be empty when operator is ${operator}`);
    ok = false;
  }
  if (!ok || key === undefined || operator === undefined) return undefined;
  return { key, operator, values };
}
