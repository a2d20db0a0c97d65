import type { Document } from '../api/documents.js';
import type { LoadResult } from '../api/snapshot.js';
import { policyStatuses } from '../semantics/enforcement.js';
import type { Flow } from '../semantics/flow.js';
import { namespaceOverrides } from '../semantics/overrides.js';
import { FlowError, parseEndpoint, parsePort, parseProtocol } from '../semantics/parse-flow.js';
import { CliError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { checkFlows, printFlows, readFlows } from './explain-flows.js';
import { overridesText } from './explain-overrides.js';
import { bool, flagName, oneOf, parseFlags, single, type ParsedFlags } from './flags.js';
import { INPUT_HELP, INPUT_NOTE, readInputs } from './input.js';
import { loadDocuments } from './validate.js';

const HELP = `usage: cnp-operator explain [-f FILE... | --kubeconfig FILE --context NAME]
           --from NS/POD|IP --to NS/POD|IP --port N [--protocol TCP|UDP|SCTP] [-o text|json]
       cnp-operator explain [-f FILE... | --kubeconfig ...] --flows FLOWS.json [-o text|json]
       cnp-operator explain [-f FILE... | --kubeconfig ...] -n, --namespace NS [-o text|json]

Explains whether a connection is allowed by the ClusterNetworkPolicies and NetworkPolicies of a
cluster, and which tier, policy and rule decided each direction. --flows takes a JSON array of
{"from", "to", "port", "protocol"} (protocol defaults to TCP).

--namespace NS lists, for each NetworkPolicy of the namespace and each direction it isolates, the
Admin ClusterNetworkPolicy rules that decide before it (Accept and Deny whatever it says; Pass
hands the traffic to it, past later Admin rules), for which pods, peers and ports; and the
Baseline ones it shuts out (Baseline only decides where no NetworkPolicy isolates the pod). What
to read when a NetworkPolicy "does not work".

The cluster: with -f, objects from files (policies plus the Namespaces, Pods and Nodes they
select; \`kubectl get clusternetworkpolicies,networkpolicies,namespaces,pods,nodes -A -o yaml\`
exports them). Without -f, the live cluster, read-only (list on those kinds, the ClusterRole in
config/rbac/reader.yaml):
  --kubeconfig FILE           default: KUBECONFIG, then ~/.kube/config (in a pod: its service account)
  --context NAME              a context of the kubeconfig other than its current one
Where the input has the CNPs' status (a live cluster, or objects exported with kubectl), a
policy in a trace whose Programmed or Exact condition is not True is shown with it ("!"): the
backend does not enforce it, or only approximates it (the operator's findings, e.g. which rule
fails closed and why). Hand-written files have no status and get no such line.

${INPUT_HELP}
  -o, --output text|json      json: always an array, one entry per flow:
                              [{"verdict", "egress": [trace], "ingress": [trace], "enforcement": [notes]}]
                              with --namespace: [{"namespace", "name", "directions": [...]}]
${INPUT_NOTE}

As a kubectl plugin (bin/kubectl-cnp on PATH): kubectl cnp explain --from ... --to ... --port N
${EXIT_HELP}`;

type Mode = { readonly kind: 'flows'; readonly flows: Flow[]; readonly file: string | undefined } | { readonly kind: 'namespace'; readonly namespace: string };

const FLOW_FLAGS = ['from', 'to', 'port', 'protocol'];

function flowMode(flags: ParsedFlags): Mode {
  const flowsPath = single(flags, 'flows');
  const given = FLOW_FLAGS.filter((k) => flags.values.has(k));
  if (flowsPath !== undefined && given.length > 0) throw new CliError(`--flows cannot be combined with ${given.map((k) => flagName(flags, k)).join(', ')}`, EXIT.usage);
  if (flowsPath !== undefined) return { kind: 'flows', flows: readFlows(flowsPath), file: flowsPath };
  for (const k of ['from', 'to', 'port']) if (!flags.values.has(k)) throw new CliError(`--${k} is required (or give --flows FILE, or --namespace NS)`, EXIT.usage);
  try {
    const flow: Flow = {
      from: parseEndpoint(single(flags, 'from'), flagName(flags, 'from')),
      to: parseEndpoint(single(flags, 'to'), flagName(flags, 'to')),
      port: parsePort(single(flags, 'port'), flagName(flags, 'port')),
      protocol: parseProtocol(single(flags, 'protocol') ?? 'TCP', flagName(flags, 'protocol')),
    };
    return { kind: 'flows', flows: [flow], file: undefined };
  } catch (err) {
    if (err instanceof FlowError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

function mode(flags: ParsedFlags): Mode {
  const namespace = single(flags, 'namespace');
  if (namespace === undefined) return flowMode(flags);
  const flowFlags = [...FLOW_FLAGS, 'flows'].filter((k) => flags.values.has(k));
  if (flowFlags.length > 0) throw new CliError(`${flagName(flags, 'namespace')} cannot be combined with ${flowFlags.map((k) => flagName(flags, k)).join(', ')}`, EXIT.usage);
  if (namespace === '') throw new CliError(`${flagName(flags, 'namespace')} needs a namespace name`, EXIT.usage);
  return { kind: 'namespace', namespace };
}

/** The input: files with -f, otherwise the live cluster (loaded lazily: offline use never pays for the client). */
async function documents(flags: ParsedFlags): Promise<{ docs: Document[]; origin: 'file' | 'cluster' }> {
  const files = flags.values.get('filename');
  const live = ['kubeconfig', 'context'].filter((k) => flags.values.has(k));
  if (files !== undefined && live.length > 0) throw new CliError(`-f reads files and ${flagName(flags, live[0]!)} a cluster: give one of them`, EXIT.usage);
  if (files !== undefined) return { docs: readInputs(files, { recursive: bool(flags, 'recursive', false) }), origin: 'file' };
  if (bool(flags, 'recursive', false)) throw new CliError(`${flagName(flags, 'recursive')} applies to -f`, EXIT.usage);
  const { readLiveDocuments } = await import('./live-snapshot.js');
  const kubeconfig = single(flags, 'kubeconfig');
  const context = single(flags, 'context');
  const docs = await readLiveDocuments({ ...(kubeconfig === undefined ? {} : { kubeconfig }), ...(context === undefined ? {} : { context }) });
  return { docs, origin: 'cluster' };
}

function explainNamespace(load: LoadResult, namespace: string, output: 'text' | 'json'): void {
  const { snapshot } = load;
  const overrides = namespaceOverrides(snapshot, namespace);
  if (overrides.length === 0 && !snapshot.namespaces.some((n) => n.name === namespace)) {
    throw new CliError(`namespace ${namespace} is not in the input`, EXIT.invalid);
  }
  process.stdout.write(output === 'json' ? `${JSON.stringify(overrides, null, 2)}\n` : overridesText(namespace, overrides));
}

export async function explainCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'from', 'to', 'port', 'protocol', 'flows', 'output', 'namespace', 'kubeconfig', 'context'],
    switches: ['help', 'recursive'],
    aliases: { f: 'filename', o: 'output', h: 'help', n: 'namespace', R: 'recursive' },
    positionalHint: 'inputs go after -f',
  });
  if (bool(flags, 'help', false)) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const m = mode(flags);
  const { docs, origin } = await documents(flags);
  const load = loadDocuments(docs, { allowUnsupported: true, origin });
  if (m.kind === 'namespace') {
    explainNamespace(load, m.namespace, output);
    return EXIT.ok;
  }
  const field = (i: number, end: 'from' | 'to') => (m.file === undefined ? flagName(flags, end) : `${m.file}: [${i}].${end}`);
  checkFlows(load.snapshot, m.flows, field);
  printFlows(load.snapshot, m.flows, policyStatuses(docs), output);
  return EXIT.ok;
}
