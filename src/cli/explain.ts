import { readFileSync } from 'node:fs';
import type { Snapshot } from '../api/model.js';
import { Evaluator } from '../semantics/evaluate.js';
import type { Endpoint, Flow, FlowResult, TraceStep } from '../semantics/flow.js';
import { FlowError, formatEndpoint, parseEndpoint, parseFlow, parsePort, parseProtocol } from '../semantics/parse-flow.js';
import { CliError } from './errors.js';
import { oneOf, parseFlags, single } from './flags.js';
import { loadInputs } from './validate.js';

const HELP = `usage: cnp-operator explain -f FILE... --from NS/POD --to NS/POD|IP --port N [--protocol TCP|UDP|SCTP] [-o text|json]
       cnp-operator explain -f FILE... --flows FLOWS.json [-o text|json]

Explains whether a connection is allowed by the ClusterNetworkPolicies and NetworkPolicies
of a cluster snapshot (-f: policies plus the Namespaces, Pods and Nodes they select), and
which tier, policy and rule decided each direction. --flows takes a JSON array of
{"from", "to", "port", "protocol"}; -o json prints [{"verdict", "egress", "ingress"}, ...].
`;

function checkKnown(snapshot: Snapshot, e: Endpoint, field: string): void {
  if (e.kind !== 'pod') return;
  if (!snapshot.pods.some((p) => p.namespace === e.namespace && p.name === e.name)) {
    throw new CliError(`${field}: pod ${e.namespace}/${e.name} is not in the input (add its Pod object with -f)`, 2);
  }
}

function readFlows(path: string): Flow[] {
  let raw: unknown;
  try {
    raw = JSON.parse(path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(err as Error).message}`}`, 2);
  }
  if (!Array.isArray(raw)) throw new CliError(`${path}: must be a JSON array of {"from", "to", "port", "protocol"}`, 2);
  try {
    return raw.map((f, i) => parseFlow(f, `[${i}]`));
  } catch (err) {
    if (err instanceof FlowError) throw new CliError(`${path}: ${err.message}`, 2);
    throw err;
  }
}

function jsonStep(t: TraceStep): Record<string, unknown> {
  const out: Record<string, unknown> = { stage: t.stage, verdict: t.verdict };
  if (t.tier !== undefined) out['tier'] = t.tier;
  if (t.policy !== undefined) out['policy'] = t.policy;
  if (t.ruleIndex !== undefined) out['rule'] = t.ruleIndex;
  if (t.ruleName !== undefined) out['ruleName'] = t.ruleName;
  if (t.action !== undefined) out['action'] = t.action;
  if (t.networkPolicies !== undefined) out['networkPolicies'] = t.networkPolicies;
  out['reason'] = t.reason;
  return out;
}

function textResult(flow: Flow, r: FlowResult): string {
  const lines = [`${formatEndpoint(flow.from)} -> ${formatEndpoint(flow.to)} ${flow.protocol}/${flow.port}: ${r.verdict.toUpperCase()}`];
  for (const d of [r.egress, r.ingress]) {
    lines.push(`  ${d.direction} (${d.direction === 'egress' ? 'source' : 'destination'} side): ${d.verdict}`);
    for (const t of d.trace) lines.push(`    ${t.verdict === 'next' ? '→' : t.verdict === 'allow' ? '✓' : '✗'} [${t.stage}] ${t.reason}`);
  }
  return lines.join('\n');
}

export async function explainCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ['filename', 'from', 'to', 'port', 'protocol', 'flows', 'output'],
    switches: ['help'],
    aliases: { f: 'filename', o: 'output', h: 'help' },
  });
  if (flags.switches.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const output = oneOf(flags, 'output', ['text', 'json'] as const, 'text');
  const flowsPath = single(flags, 'flows');
  const single1 = ['from', 'to', 'port', 'protocol'].filter((k) => flags.values.has(k));
  if (flowsPath !== undefined && single1.length > 0) throw new CliError(`--flows cannot be combined with --${single1.join(', --')}`, 2);
  if (flags.positional.length > 0) throw new CliError(`unexpected argument ${flags.positional[0]} (inputs go after -f)`, 2);

  let flows: Flow[];
  try {
    if (flowsPath !== undefined) flows = readFlows(flowsPath);
    else {
      for (const k of ['from', 'to', 'port']) if (!flags.values.has(k)) throw new CliError(`--${k} is required (or give --flows FILE)`, 2);
      flows = [
        {
          from: parseEndpoint(single(flags, 'from'), '--from'),
          to: parseEndpoint(single(flags, 'to'), '--to'),
          port: parsePort(single(flags, 'port'), '--port'),
          protocol: parseProtocol(single(flags, 'protocol') ?? 'TCP', '--protocol'),
        },
      ];
    }
  } catch (err) {
    if (err instanceof FlowError) throw new CliError(err.message, 2);
    throw err;
  }

  const { snapshot } = loadInputs(flags.values.get('filename') ?? [], { allowUnsupported: true });
  flows.forEach((f, i) => {
    const where = flowsPath === undefined ? '' : `${flowsPath}: [${i}].`;
    checkKnown(snapshot, f.from, `${where}${flowsPath === undefined ? '--from' : 'from'}`);
    checkKnown(snapshot, f.to, `${where}${flowsPath === undefined ? '--to' : 'to'}`);
  });
  const evaluator = new Evaluator(snapshot);
  const results = flows.map((f) => evaluator.evaluate(f));
  if (output === 'json') {
    const json = results.map((r) => ({ verdict: r.verdict, egress: r.egress.trace.map(jsonStep), ingress: r.ingress.trace.map(jsonStep) }));
    process.stdout.write(`${JSON.stringify(flowsPath === undefined ? json[0] : json, null, 2)}\n`);
  } else {
    process.stdout.write(`${results.map((r, i) => textResult(flows[i]!, r)).join('\n\n')}\n`);
  }
  return 0;
}
