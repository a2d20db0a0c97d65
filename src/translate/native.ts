import { DIRECTIONS, type Direction, type Policy, type Rule, type Selector, type Snapshot } from '../api/model.js';
import { selectorMatches } from '../api/selector.js';
import { ClusterIndex } from '../semantics/cluster.js';
import type { CiliumAgent } from './cilium/options.js';
import type { Finding, FindingEffect } from './types.js';

// Where the CNI enforces ClusterNetworkPolicy itself, the operator writes nothing but still
// tells each CNP's Exact condition where that enforcement departs from the API. What it says
// comes only from facts measured on the real engines — Felix with real packets, Cilium's own
// policy engine — each kept once in FACTS with where it was measured and the versions it holds
// for. A fact applies to a rule when the rule has the shape it names.

/** The CNI that enforces CNPs, as detected. */
export type NativeCni =
  | { readonly kind: 'calico'; readonly version: readonly [number, number, number] }
  | { readonly kind: 'cilium'; readonly minor: number | undefined; readonly agent: CiliumAgent };

interface Fact {
  readonly id: string;
  /** Which CNI and versions the measurement holds for. */
  readonly applies: (cni: NativeCni) => boolean;
  /** Where it was measured. */
  readonly source: string;
  /** The rules (or policies) it concerns; the finding's message and effect. */
  readonly check: (policy: Policy, rule: Rule, direction: Direction, snapshot: Snapshot) => { readonly effect: FindingEffect; readonly message: string } | undefined;
}

const calicoFrom = (minor: number) => (cni: NativeCni) => cni.kind === 'calico' && cni.version[0] === 3 && cni.version[1] >= minor;
const cilium = (test: (cni: Extract<NativeCni, { kind: 'cilium' }>) => boolean) => (cni: NativeCni) => cni.kind === 'cilium' && (cni.minor ?? 20) >= 20 && test(cni);
const has = (rule: Rule, kind: string) => rule.peers.some((p) => p.kind === kind);

/** Whether a NetworkPolicy isolates, in this direction, some pod the policy's subject selects now. */
function isolatesSomeSubject(policy: Policy, direction: Direction, snapshot: Snapshot): boolean {
  const index = new ClusterIndex(snapshot);
  return snapshot.pods.some(
    (pod) =>
      !pod.hostNetwork &&
      index.inPodSet(policy.subject, pod) &&
      snapshot.networkPolicies.some((np) => np.namespace === pod.namespace && np.policyTypes.includes(direction) && selectorMatches(np.podSelector, pod.labels)),
  );
}

/** A selector of only NotIn/DoesNotExist terms (non-empty): Cilium 1.20 also matches non-pod identities with it. */
function onlyNegative(s: Selector): boolean {
  return s.requirements.length > 0 && s.requirements.every((r) => r.operator === 'NotIn' || r.operator === 'DoesNotExist');
}

export const FACTS: readonly Fact[] = [
  {
    id: 'calico-native-accept-node-or-domain-peer',
    applies: calicoFrom(32),
    source: 'test/engines/calico (Felix 3.32.1, native CNP support, real packets): the v0.3.0 node-peer Accept probes are denied',
    check: (_p, rule) =>
      rule.action === 'Accept' && (has(rule, 'nodes') || has(rule, 'domainNames'))
        ? { effect: 'accept-narrowed', message: 'Calico drops an Accept rule with a nodes or domainNames peer, with all its other peers: it accepts nothing' }
        : undefined,
  },
  {
    id: 'calico-native-deny-node-or-domain-peer',
    applies: calicoFrom(32),
    source: 'Calico 3.32.1 native CNP support, measured with real packets on Felix',
    check: (_p, rule) =>
      rule.action !== 'Accept' && (has(rule, 'nodes') || has(rule, 'domainNames'))
        ? { effect: 'deny-widened', message: `Calico turns a ${rule.action} rule with a nodes or domainNames peer into a deny of all traffic of the subject in this direction` }
        : undefined,
  },
  {
    id: 'calico-native-resync-on-node-or-domain-peer',
    applies: calicoFrom(32),
    source: 'Calico 3.32.1: each change of such a CNP makes the CNP watch fail and resync (about 2.5 s in which no CNP change reaches Felix)',
    check: (_p, rule) =>
      has(rule, 'nodes') || has(rule, 'domainNames')
        ? { effect: 'none', message: 'every change of this CNP makes Calico resync its CNPs: for about 2.5 s no CNP change reaches Felix' }
        : undefined,
  },
  {
    id: 'cilium-native-nodes-without-node-selector-labels',
    applies: cilium((c) => c.agent.nodeSelectorLabels !== true),
    source: 'test/engines/cilium (Cilium 1.20.2 policy engine): without enable-node-selector-labels a CNP with a nodes peer is rejected whole',
    check: (_p, rule) =>
      has(rule, 'nodes')
        ? { effect: 'deny-narrowed', message: 'Cilium rejects this whole CNP (a nodes peer needs enable-node-selector-labels): none of its rules is enforced' }
        : undefined,
  },
  {
    id: 'cilium-native-cidr-misses-cluster',
    applies: cilium((c) => !(Array.isArray(c.agent.cidrMatchMode) && c.agent.cidrMatchMode.includes('pods'))),
    source: 'test/engines/cilium (Cilium 1.20.2): networks peers match pods only with policy-cidr-match-mode including pods; 0.0.0.0/0 misses them',
    check: (_p, rule) =>
      has(rule, 'networks')
        ? rule.action === 'Accept'
          ? { effect: 'accept-narrowed', message: 'Cilium matches networks peers only outside the cluster here (policy-cidr-match-mode has no pods): pods in these networks are not accepted' }
          : { effect: 'deny-narrowed', message: `Cilium matches networks peers only outside the cluster here (policy-cidr-match-mode has no pods): pods in these networks are not matched by this ${rule.action}` }
        : undefined,
  },
  {
    id: 'cilium-native-baseline-accept-over-networkpolicy',
    applies: cilium(() => true),
    source: 'test/engines/cilium (Cilium 1.20.2, random clusters): a Baseline Accept applies to pods a NetworkPolicy isolates',
    check: (policy, rule, direction, snapshot) =>
      policy.tier === 'Baseline' && rule.action === 'Accept' && isolatesSomeSubject(policy, direction, snapshot)
        ? { effect: 'accept-widened', message: `Cilium applies this Baseline Accept also to pods a NetworkPolicy isolates for ${direction}, where the NetworkPolicy should decide` }
        : undefined,
  },
  {
    id: 'cilium-native-negative-namespace-selector',
    applies: cilium(() => true),
    source: 'test/engines/cilium (Cilium 1.20.2): namespace selectors of only NotIn/DoesNotExist also select non-pod identities (cilium#46949)',
    check: (_p, rule) =>
      rule.peers.some((p) => p.kind === 'pods' && onlyNegative(p.pods.namespaces))
        ? { effect: rule.action === 'Accept' ? 'accept-widened' : 'deny-widened', message: 'Cilium also matches nodes and addresses outside the cluster with a namespace selector of only NotIn/DoesNotExist terms (cilium#46949)' }
        : undefined,
  },
];

/** Where the CNI's own enforcement departs from each CNP, by the measured facts that apply to it. */
export function nativeDeviations(snapshot: Snapshot, cni: NativeCni): Finding[] {
  const facts = FACTS.filter((f) => f.applies(cni));
  const out: Finding[] = [];
  for (const policy of snapshot.policies) {
    for (const direction of DIRECTIONS) {
      for (const rule of direction === 'egress' ? policy.egress : policy.ingress) {
        for (const fact of facts) {
          const found = fact.check(policy, rule, direction, snapshot);
          if (found === undefined) continue;
          out.push({ policy: policy.name, direction, ruleIndex: rule.index, ...(rule.name === undefined ? {} : { ruleName: rule.name }), kind: 'native', effect: found.effect, message: found.message });
        }
      }
    }
  }
  return out;
}
