// `cnp-operator translate` on a large cluster (not part of the tests): 3,000 namespaces,
// 12,000 pods, 3,000 NetworkPolicies and the cluster's ClusterNetworkPolicies (the cluster-wide
// ones and one per tenant of 10 namespaces: 309), for both backends. Wall time and peak resident
// memory of the real command (the compiled CLI in dist/, or --cli PATH to another build), and the
// load average it ran under. Target: ≤ 2 s for either backend.
// Run: npm run build && npx tsx bench/translate-shape.ts [--namespaces 3000] [--pods-per-namespace 4]
//      [--cnps 309] [--runs 3] [--backend cilium|calico|both] [--profile DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterShape } from './cluster-shape.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const NAMESPACES = Number(args.get('namespaces') ?? 3000);
const PODS = Number(args.get('pods-per-namespace') ?? 4);
const CNPS = Number(args.get('cnps') ?? 309);
const RUNS = Number(args.get('runs') ?? 3);
const BACKENDS = (args.get('backend') ?? 'both') === 'both' ? ['cilium', 'calico'] : [args.get('backend')!];
const PROFILE = args.get('profile');
const CLI = args.get('cli') ?? join(import.meta.dirname, '..', 'dist', 'cnp-operator.js');

const shape = clusterShape({ namespaces: NAMESPACES, podsPerNamespace: PODS, cnps: CNPS });
const dir = mkdtempSync(join(tmpdir(), 'cnp-translate-'));
const file = join(dir, 'cluster.json');
const items = [...shape.namespaces, ...shape.nodes, ...shape.pods, ...shape.networkPolicies, ...shape.cnps];
writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
process.stderr.write(`[bench] ${shape.namespaces.length} namespaces, ${shape.pods.length} pods, ${shape.networkPolicies.length} NetworkPolicies, ${shape.cnps.length} CNPs, ${shape.nodes.length} nodes in ${file}\n`);

// Runs main() of the compiled CLI in a child that reports its own time and peak memory.
const runner = join(dir, 'run.mjs');
writeFileSync(
  runner,
  `import { readFileSync } from 'node:fs';
const { main } = await import(${JSON.stringify(`file://${CLI}`)});
const out = process.stdout.write.bind(process.stdout);
let bytes = 0;
process.stdout.write = (chunk, ...rest) => { bytes += chunk.length; return true; };
process.stderr.write = () => true;
const t0 = performance.now();
const code = await main(process.argv.slice(2));
const ms = performance.now() - t0;
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
out(JSON.stringify({ code, ms, hwm, bytes }) + '\\n');
`,
);

for (const backend of BACKENDS) {
  const results: { ms: number; wall: number; hwm: number; load: number }[] = [];
  let bytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const load = loadavg()[0]!;
    const profile = PROFILE !== undefined && r === 0 ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [];
    const t0 = performance.now();
    const res = spawnSync(process.execPath, [...profile, runner, 'translate', '--backend', backend, '-f', file, '-o', 'json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const wall = performance.now() - t0;
    if (res.status !== 0) throw new Error(`translate failed: ${res.stderr}`);
    const m = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { code: number; ms: number; hwm: number; bytes: number };
    if (m.code !== 0) throw new Error(`translate exited ${m.code}`);
    bytes = m.bytes;
    results.push({ ms: m.ms, wall, hwm: m.hwm, load });
  }
  const best = [...results].sort((a, b) => a.wall - b.wall)[0]!;
  const median = [...results].sort((a, b) => a.wall - b.wall)[Math.floor(results.length / 2)]!;
  console.log(
    `translate --backend ${backend}: wall median ${(median.wall / 1000).toFixed(2)} s, best ${(best.wall / 1000).toFixed(2)} s (in main(): ${(best.ms / 1000).toFixed(2)} s); peak RSS ${Math.max(...results.map((x) => x.hwm)).toFixed(0)} MiB; output ${(bytes / 1024 / 1024).toFixed(1)} MiB; load average ${results.map((x) => x.load.toFixed(1)).join(', ')} (2 cores)`,
  );
}

