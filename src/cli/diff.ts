import { formatSource } from '../api/diagnostics.js';
import type { Document } from '../api/documents.js';
import { parseIp } from '../api/ip.js';
import type { Snapshot } from '../api/model.js';
import type { TraceStep } from '../semantics/flow.js';
import { applyChanges, ChangeError, type PolicyChange, type ProposedChanges } from '../semantics/impact-changes.js';
import { computeImpact, type AddressTarget, type Impact, type Outcome } from '../semantics/impact.js';
import { describeGroup, describePolicyChanges, groupChanges, reportContext, summaryLine, type ChangeGroup } from '../semantics/impact-report.js';
import type { PodClass } from '../semantics/classes.js';
import { FlowError, parsePort, parseProtocol } from '../semantics/parse-flow.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { bool, flagName, oneOf, parseFlags, single, type ParsedFlags } from './flags.js';
import { readInputs } from './input.js';
import { loadDocuments } from './validate.js';

const HELP = `usage: cnp-operator diff -f CHANGES... [--delete NAME|NS/NAME]... [--cluster FILE...]
           [--kubeconfig FILE] [--context NAME] [--to-address IP --port N[/PROTOCOL]]... [-o text|json]

Impact preview: which connections between the cluster's pods change verdict if the proposed
ClusterNetworkPolicies and NetworkPolicies are applied, and which rule decides them now and
before. As kubectl diff: -f is what you would apply; the cluster is the live one, or files.

The change:
  -f, --filename FILE|DIR|-   proposed ClusterNetworkPolicies and NetworkPolicies: each is added,
                              or replaces the object of the same name (namespace/name); repeatable
  --delete NAME               a ClusterNetworkPolicy the change deletes; repeatable
  --delete NS/NAME            a NetworkPolicy the change deletes (namespace/name); repeatable
The cluster (its CNPs, NetworkPolicies, Namespaces, Pods and Nodes):
  --cluster FILE|DIR|-        from files, e.g. \`kubectl get clusternetworkpolicies,networkpolicies,
                              namespaces,pods,nodes -A -o yaml\`; repeatable
  --kubeconfig FILE           without --cluster: the live cluster, read-only (list on those kinds,
                              config/rbac/reader.yaml); default KUBECONFIG, then ~/.kube/config
  --context NAME              a context of the kubeconfig other than its current one
  -R, --recursive             read directories given with -f and --cluster recursively
Connections compared: every pod to every other pod, on every TCP, UDP and SCTP port; and with
  --to-address IP             every pod to this address (outside the cluster, a node, ...); repeatable
  --port N[/PROTOCOL]         on these ports (protocol TCP by default; UDP, SCTP); repeatable, needed
                              with --to-address
  -o, --output text|json      text: one line per group of changed connections, then a summary
                              line; json: {"policies", "summary", "changes", "classes"} (below)

A group reads "12 pods in tenant-a can no longer reach payments/api on 443/TCP, decided by
protect-payments ingress[1] ... (before: ...)": every pod on the left to every pod on the right
(a pod never counts as reaching itself: policy does not apply to it) on those ports changed
verdict, decided now by that rule of the direction that changed, and before by the other.
Pods are compared by classes (pods every policy, before and after, treats alike), so the cost
grows with the kinds of pods, not their number.

json: "changes": [{"change": "denied"|"allowed", "description", "from": {"classes": [ids],
"except": [pods]}, "to": {"classes": [ids]} | {"address"}, "ports": [{"protocol", "start", "end"}],
"connections", "before"/"after": {"verdict", "decidedBy": [{"direction", "stage", "tier",
"policy", "rule", "ruleName", "action", "networkPolicies", "reason"}]}}]; "classes": [{"id",
"pods": ["namespace/name", ...]}] for the ids used.

Exit status (as kubectl diff): 0 no connection changes verdict; 1 some do; 2 usage error or
invalid input (the change must pass validate); 66 the input or the cluster cannot be read;
70 internal error.
`;

/** kubectl diff's contract: 1 means "differences found", so no error may exit 1. */
const CHANGES_FOUND = 1;

function failure(err: unknown): unknown {
  if (err instanceof CliError && err.exitCode === EXIT.invalid) return new CliError(err.message, EXIT.usage);
  if (err instanceof FlowError) return new CliError(err.message, EXIT.usage);
  if (err instanceof ChangeError) return new CliError(err.message, EXIT.usage);
  return err;
}

const PROPOSABLE = ['ClusterNetworkPolicy', 'NetworkPolicy'];

/** The change: proposed objects (only policies) and deletions. */
function proposed(flags: ParsedFlags, recursive: boolean): ProposedChanges {
  const files = flags.values.get('filename') ?? [];
  const deletions = flags.values.get('delete') ?? [];
  if (files.length === 0 && deletions.length === 0) throw new CliError('nothing to compare: give the proposed policies with -f, or --delete NAME', EXIT.usage);
  const docs: Document[] = files.length === 0 ? [] : readInputs(files, { recursive });
  for (const doc of docs) {
    const kind = typeof doc.value === 'object' && doc.value !== null ? (doc.value as Record<string, unknown>)['kind'] : undefined;
    if (typeof kind !== 'string' || !PROPOSABLE.includes(kind)) {
      throw new CliError(
        `${formatSource(doc.source)}: ${typeof kind === 'string' ? `a ${kind}` : 'a document without kind'}: ${flagName(flags, 'filename')} takes the proposed ClusterNetworkPolicies and NetworkPolicies; the cluster's objects come from --cluster or the live cluster`,
        EXIT.usage,
      );
    }
  }
  const { snapshot } = loadDocuments(docs, { allowUnsupported: true, origin: 'file' });
  const deletePolicies: string[] = [];
  const deleteNetworkPolicies: { namespace: string; name: string }[] = [];
  for (const d of deletions) {
    const parts = d.split('/');
    if (parts.length === 1 && d !== '') deletePolicies.push(d);
    else if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') deleteNetworkPolicies.push({ namespace: parts[0]!, name: parts[1]! });
    else throw new CliError(`${flagName(flags, 'delete')} ${JSON.stringify(d)}: give a ClusterNetworkPolicy's NAME or a NetworkPolicy's NAMESPACE/NAME`, EXIT.usage);
  }
  return { policies: snapshot.policies, networkPolicies: snapshot.networkPolicies, deletePolicies, deleteNetworkPolicies };
}

/** The cluster as it is: files with --cluster, otherwise the live cluster (its client loaded only then). */
async function cluster(flags: ParsedFlags, recursive: boolean): Promise<Snapshot> {
  const files = flags.values.get('cluster');
  const live = ['kubeconfig', 'context'].filter((k) => flags.values.has(k));
  if (files !== undefined && live.length > 0) throw new CliError(`--cluster reads files and ${flagName(flags, live[0]!)} a live cluster: give one of them`, EXIT.usage);
  let docs: Document[];
  if (files !== undefined) docs = readInputs(files, { recursive });
  else {
    const { readLiveDocuments } = await import('./live-snapshot.js');
    const kubeconfig = single(flags, 'kubeconfig');
    const context = single(flags, 'context');
    try {
      docs = await readLiveDocuments({ ...(kubeconfig === undefined ? {} : { kubeconfig }), ...(context === undefined ? {} : { context }) });
    } catch (err) {
      if (err instanceof CliError) throw new CliError(err.message, EXIT.noInput);
      throw new CliError(`cannot read the cluster: ${err instanceof Error ? err.message : String(err)}`, EXIT.noInput);
    }
  }
  // The cluster's objects are what an API server accepted (exported or live alike), so they are
  // read as the operator reads them from a cluster: the same answer for both.
  return loadDocuments(docs, { allowUnsupported: true, origin: 'cluster' }).snapshot;
}

function addresses(flags: ParsedFlags): AddressTarget[] {
  const ips = flags.values.get('to-address') ?? [];
  const ports = flags.values.get('port') ?? [];
  if (ips.length === 0 && ports.length === 0) return [];
  if (ips.length === 0) throw new CliError(`${flagName(flags, 'port')} applies to --to-address: give the address too`, EXIT.usage);
  if (ports.length === 0) throw new CliError(`${flagName(flags, 'to-address')} needs the ports to compare: add --port N[/PROTOCOL]`, EXIT.usage);
  for (const ip of ips) if (parseIp(ip) === undefined) throw new CliError(`${flagName(flags, 'to-address')} ${JSON.stringify(ip)} is not an IP address`, EXIT.usage);
  const parsed = ports.map((p) => {
    const [port, protocol, ...rest] = p.split('/');
    if (rest.length > 0) throw new CliError(`${flagName(flags, 'port')} ${JSON.stringify(p)}: write N or N/PROTOCOL, e.g. 443/TCP`, EXIT.usage);
    return { port: parsePort(port, flagName(flags, 'port')), protocol: parseProtocol(protocol ?? 'TCP', flagName(flags, 'port')) };
  });
  return ips.flatMap((ip) => parsed.map((p) => ({ ip, ...p })));
}

function jsonStep(direction: string, t: TraceStep): Record<string, unknown> {
  return {
    direction,
    stage: t.stage,
    verdict: t.verdict,
    ...(t.tier === undefined ? {} : { tier: t.tier }),
    ...(t.policy === undefined ? {} : { policy: t.policy }),
    ...(t.ruleIndex === undefined ? {} : { rule: t.ruleIndex }),
    ...(t.ruleName === undefined ? {} : { ruleName: t.ruleName }),
    ...(t.action === undefined ? {} : { action: t.action }),
    ...(t.networkPolicies === undefined ? {} : { networkPolicies: t.networkPolicies }),
    reason: t.reason,
  };
}

const jsonOutcome = (o: Outcome) => ({ verdict: o.verdict, decidedBy: o.decidedBy.map((d) => jsonStep(d.direction, d.step)) });

function json(groups: readonly ChangeGroup[], impact: Impact, policies: readonly PolicyChange[], describe: (g: ChangeGroup) => string): object {
  const used = new Map<number, PodClass>();
  const ids = (classes: readonly PodClass[]) => classes.map((c) => (used.set(c.id, c), c.id));
  const changes = groups.map((g) => ({
    change: g.change,
    description: describe(g),
    from: { classes: ids(g.from), ...(g.except.length > 0 ? { except: g.except } : {}) },
    to: g.to.kind === 'address' ? { address: g.to.ip } : { classes: ids(g.to.classes) },
    ports: g.ports,
    connections: g.connections,
    before: jsonOutcome(g.before),
    after: jsonOutcome(g.after),
  }));
  const sum = (change: ChangeGroup['change']) => groups.filter((g) => g.change === change).reduce((n, g) => n + g.connections, 0);
  return {
    policies,
    summary: { changes: groups.length, newlyDenied: sum('denied'), newlyAllowed: sum('allowed'), pods: impact.stats.pods, classes: impact.stats.classes },
    changes,
    classes: [...used.values()].sort((a, b) => a.id - b.id).map((c) => ({ id: c.id, pods: c.members })),
  };
}

export async function diffCommand(args: string[]): Promise<number> {
  try {
    return await diff(args);
  } catch (err) {
    throw failure(err);
  }
}

async function diff(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'delete', 'cluster', 'kubeconfig', 'context', 'to-address', 'port', 'output'],
    switches: ['help', 'recursive'],
    aliases: { f: 'filename', o: 'output', h: 'help', R: 'recursive' },
    positionalHint: 'proposed policies go after -f, the cluster after --cluster',
  });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const recursive = bool(flags, 'recursive', false);
  const targets = addresses(flags);
  const change = proposed(flags, recursive);
  const before = await cluster(flags, recursive);
  const { after, changes } = applyChanges(before, change);
  const impact = computeImpact(before, after, { addresses: targets });
  const groups = groupChanges(impact);
  const ctx = reportContext(before.pods);
  const describe = (g: ChangeGroup) => describeGroup(g, ctx);
  if (output === 'json') process.stdout.write(`${JSON.stringify(json(groups, impact, changes, describe), null, 2)}\n`);
  else {
    if (changes.every((c) => c.change === 'unchanged')) process.stderr.write(`note: the change is the cluster's as it is (${describePolicyChanges(changes)})\n`);
    const lines = groups.map((g) => `${g.change === 'denied' ? '-' : '+'} ${describe(g)}`);
    process.stdout.write(`${[...lines, summaryLine(groups, impact, changes)].join('\n')}\n`);
  }
  return groups.length > 0 ? CHANGES_FOUND : EXIT.ok;
}
