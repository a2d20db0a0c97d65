import { CALICO_APIS, type CalicoApi } from './types.js';

/** Calico's own `default` tier, where Kubernetes NetworkPolicies are enforced (reference/calico.md §3.5). */
export const CALICO_DEFAULT_TIER_ORDER = 1_000_000;

/**
 * The tiers Calico creates itself, with the orders its validator pins (reference/calico.md §3.1).
 * Our tiers must not take these names and should not share these orders (equal orders tie-break by
 * tier name, which would make the relative order depend on how the tiers are named).
 */
export const CALICO_BUILTIN_TIERS: Readonly<Record<string, number>> = {
  'calico-system': 100,
  'allow-tigera': 100,
  adminnetworkpolicy: 1_000,
  'kube-admin': 1_000,
  default: CALICO_DEFAULT_TIER_ORDER,
  baselineadminnetworkpolicy: 10_000_000,
  'kube-baseline': 10_000_000,
};

export const DEFAULT_ADMIN_TIER = 'cnp-admin';
export const DEFAULT_BASELINE_TIER = 'cnp-baseline';

/**
 * Order of the Admin tier: 10,000.
 *
 * Admin CNPs must be decided before NetworkPolicies, i.e. before Calico's `default` tier
 * (1,000,000). Within that range we sit after Calico's own tiers: `calico-system` (100) protects
 * Calico's components and should keep deciding first, and on Calico 3.29–3.31 the
 * `adminnetworkpolicy` tier (1,000) holds AdminNetworkPolicies, which Calico enforces natively
 * and which this operator does not own. So the layering is: Calico's native admin layer, then
 * ours, then NetworkPolicy. 10,000 leaves a wide gap on both sides for users' own tiers.
 */
export const ADMIN_TIER_ORDER = 10_000;

/**
 * Order of the Baseline tier: 5,000,000.
 *
 * Baseline CNPs apply only when no NetworkPolicy selects the pod, i.e. after Calico's `default`
 * tier (1,000,000), whose end-of-tier Deny makes NetworkPolicy final for the pods it selects.
 * We sit before `baselineadminnetworkpolicy` (10,000,000, Calico 3.30–3.31 BANP) — the mirror image
 * of the Admin tier: Calico's native layers wrap ours on both sides, so a cluster that still has
 * ANP/BANP objects sees them outermost, exactly as it did before the operator was installed.
 */
export const BASELINE_TIER_ORDER = 5_000_000;

export interface CalicoOptions {
  /** Which API group to write: `projectcalico.org/v3` (default) or `crd.projectcalico.org/v1` (§4.2). */
  readonly api?: CalicoApi;
  /** Name of the tier holding Admin CNPs (default `cnp-admin`). */
  readonly adminTier?: string;
  /** Name of the tier holding Baseline CNPs (default `cnp-baseline`). */
  readonly baselineTier?: string;
  /** Order of the Admin tier (default {@link ADMIN_TIER_ORDER}); must be below 1,000,000. */
  readonly adminTierOrder?: number;
  /** Order of the Baseline tier (default {@link BASELINE_TIER_ORDER}); must be above 1,000,000. */
  readonly baselineTierOrder?: number;
}

export type ResolvedCalicoOptions = Required<CalicoOptions>;

/** Calico's `tierNameRegex`; tier names also end up in label values, hence at most 63 characters. */
const TIER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_TIER_NAME = 63;

export class CalicoOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid Calico translation options: ${problems.join('; ')}`);
    this.name = 'CalicoOptionsError';
  }
}

export function resolveCalicoOptions(options: CalicoOptions = {}): ResolvedCalicoOptions {
  return {
    api: options.api ?? 'projectcalico.org/v3',
    adminTier: options.adminTier ?? DEFAULT_ADMIN_TIER,
    baselineTier: options.baselineTier ?? DEFAULT_BASELINE_TIER,
    adminTierOrder: options.adminTierOrder ?? ADMIN_TIER_ORDER,
    baselineTierOrder: options.baselineTierOrder ?? BASELINE_TIER_ORDER,
  };
}

/** Everything wrong with the options (empty when they are usable). */
export function calicoOptionProblems(options: CalicoOptions = {}): string[] {
  const o = resolveCalicoOptions(options);
  const problems: string[] = [];
  if (!CALICO_APIS.includes(o.api)) problems.push(`api must be one of ${CALICO_APIS.join(', ')}, got ${JSON.stringify(o.api)}`);
  for (const [field, name] of [
    ['adminTier', o.adminTier],
    ['baselineTier', o.baselineTier],
  ] as const) {
    if (typeof name !== 'string' || name.length > MAX_TIER_NAME || !TIER_NAME.test(name)) {
      problems.push(`${field} ${JSON.stringify(name)} is not a valid Calico tier name (lowercase alphanumerics and '-', at most ${MAX_TIER_NAME} characters)`);
    } else if (Object.prototype.hasOwnProperty.call(CALICO_BUILTIN_TIERS, name)) {
      problems.push(`${field} ${JSON.stringify(name)} is one of Calico's own tiers; choose another name`);
    }
  }
  if (o.adminTier === o.baselineTier) problems.push('adminTier and baselineTier must differ');
  const builtinOrders = new Set(Object.values(CALICO_BUILTIN_TIERS));
  for (const [field, order] of [
    ['adminTierOrder', o.adminTierOrder],
    ['baselineTierOrder', o.baselineTierOrder],
  ] as const) {
    if (typeof order !== 'number' || !Number.isFinite(order)) problems.push(`${field} must be a finite number`);
    else if (builtinOrders.has(order)) problems.push(`${field} ${order} equals the order of one of Calico's own tiers`);
  }
  if (!(o.adminTierOrder < CALICO_DEFAULT_TIER_ORDER)) {
    problems.push(`adminTierOrder must be below ${CALICO_DEFAULT_TIER_ORDER} (Calico's default tier, where NetworkPolicies live)`);
  }
  if (!(o.baselineTierOrder > CALICO_DEFAULT_TIER_ORDER)) {
    problems.push(`baselineTierOrder must be above ${CALICO_DEFAULT_TIER_ORDER} (Calico's default tier, where NetworkPolicies live)`);
  }
  return problems;
}
