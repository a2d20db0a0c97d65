import { readFileSync } from 'node:fs';
import type { Snapshot } from '../api/model.js';
import type { EnforcementNote, PolicyStatus } from '../semantics/enforcement.js';
import { enforcementNotes } from '../semantics/enforcement.js';
import { Evaluator } from '../semantics/evaluate.js';
import type { Endpoint, Flow, FlowResult, TraceStep } from '../semantics/flow.js';
import { FlowError, formatEndpoint, parseFlow } from '../semantics/parse-flow.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

// `explain` for flows: the verdict and trace of each, and what the CNPs' status says about how
// the backend enforces the policies that decided.

/** Reads a --flows file (or - for standard input): a JSON array of {from, to, port, protocol}. */
export function readFlows(path: string): Flow[] {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? (err as Error).message}`}`, EXIT.noInput);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path}: not valid JSON: ${(err as Error).message}`, EXIT.invalid);
  }
  if (!Array.isArray(raw)) throw new CliError(`${path}: must be a JSON array of {"from", "to", "port", "protocol"}`, EXIT.invalid);
  try {
    return raw.map((f, i) => parseFlow(f, `[${i}]`));
  } catch (err) {
    if (err instanceof FlowError) throw new CliError(`${path}: ${err.message}`, EXIT.invalid);
    throw err;
  }
}

function checkKnown(snapshot: Snapshot, e: Endpoint, field: string): void {
  if (e.kind !== 'pod') return;
  if (!snapshot.pods.some((p) => p.namespace === e.namespace && p.name === e.name)) {
    throw new CliError(`${field}: pod ${e.namespace}/${e.name} is not in the input`, EXIT.invalid);
  }
}

/** Refuses flows naming pods the snapshot does not have; `where` names a flow for messages. */
export function checkFlows(snapshot: Snapshot, flows: readonly Flow[], where: (i: number, end: 'from' | 'to') => string): void {
  flows.forEach((f, i) => {
    checkKnown(snapshot, f.from, where(i, 'from'));
    checkKnown(snapshot, f.to, where(i, 'to'));
  });
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

function textNote(n: EnforcementNote): string {
  return `      ! ClusterNetworkPolicy ${n.policy}: ${n.type} ${n.status} (${n.reason}): ${n.message}`;
}

function textResult(flow: Flow, r: FlowResult, notes: readonly EnforcementNote[]): string {
  const lines = [`${formatEndpoint(flow.from)} -> ${formatEndpoint(flow.to)} ${flow.protocol}/${flow.port}: ${r.verdict.toUpperCase()}`];
  for (const d of [r.egress, r.ingress]) {
    lines.push(`  ${d.direction} (${d.direction === 'egress' ? 'source' : 'destination'} side): ${d.verdict}`);
    for (const t of d.trace) lines.push(`    ${t.verdict === 'next' ? '→' : t.verdict === 'allow' ? '✓' : '✗'} [${t.stage}] ${t.reason}`);
    lines.push(...notes.filter((n) => n.direction === d.direction).map(textNote));
  }
  return lines.join('\n');
}

/** Evaluates the flows and prints them: text, or a JSON array (always an array, one entry per flow). */
export function printFlows(snapshot: Snapshot, flows: readonly Flow[], statuses: ReadonlyMap<string, PolicyStatus>, output: 'text' | 'json'): void {
  const evaluator = new Evaluator(snapshot);
  const results = flows.map((f) => evaluator.evaluate(f));
  const notes = results.map((r) => enforcementNotes(r, statuses));
  if (output === 'json') {
    const json = results.map((r, i) => ({ verdict: r.verdict, egress: r.egress.trace.map(jsonStep), ingress: r.ingress.trace.map(jsonStep), enforcement: notes[i] }));
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${results.map((r, i) => textResult(flows[i]!, r, notes[i]!)).join('\n\n')}\n`);
  }
}
