// Cost of one IncrementalAnalysis update with many CNPs (not part of the tests): N policies
// shaped like bench/operator.ts's, one full update, then single-CNP updates (new ports), as
// the operator does them: update(), then forPolicy() for each name in changed().
//   Run: npx tsx bench/analysis.ts [--cnps 5000] [--updates 200]
import { parseClusterNetworkPolicy } from '../src/api/cnp.js';
import type { Policy } from '../src/api/model.js';
import { analyse, IncrementalAnalysis } from '../src/semantics/analysis.js';
import { benchCnp } from './bench-cnp.js';

const args = new Map<string, number>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), Number(process.argv[i + 1]));
const N = args.get('cnps') ?? 5000;
const UPDATES = args.get('updates') ?? 200;

function parse(i: number, port?: number): Policy {
  const { policy, diagnostics } = parseClusterNetworkPolicy(benchCnp(i, port), { origin: 'cluster' });
  if (policy === undefined) throw new Error(`bench-${i}: ${JSON.stringify(diagnostics)}`);
  return policy;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const policies = Array.from({ length: N }, (_, i) => parse(i));
const state = new IncrementalAnalysis();
let t = performance.now();
for (const _ of state.update(policies)) {
  // all at once
}
const full = performance.now() - t;
const result = state.result();
console.log(`${N} policies: full update ${full.toFixed(0)} ms (${result.shadowed.length} shadowed rules, ${result.ambiguous.length} open orders)`);

const times: number[] = [];
const updateTimes: number[] = [];
let changedTotal = 0;
for (let u = 0; u < UPDATES; u++) {
  const i = (u * 37) % N;
  const next = parse(i, 9000 + u);
  policies[i] = next;
  t = performance.now();
  for (const _ of state.update(policies)) {
    // all at once
  }
  updateTimes.push(performance.now() - t);
  for (const name of state.changed()) state.forPolicy(name);
  times.push(performance.now() - t);
  changedTotal += state.changed().size;
}
const figures = (xs: number[]) => {
  xs.sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${mean.toFixed(2)} ms, p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`;
};
console.log(`${UPDATES} single-policy updates, update() + forPolicy() of changed(): ${figures(times)}; ${(changedTotal / UPDATES).toFixed(1)} changed per update`);
console.log(`  update() alone: ${figures(updateTimes)}`);
// The same as an analysis from scratch of the policies now.
const same = JSON.stringify(state.result()) === JSON.stringify(analyse(policies));
console.log(`result after the updates ${same ? 'equals' : 'DIFFERS FROM'} a fresh analysis`);
if (!same) process.exitCode = 1;
