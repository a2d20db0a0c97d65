import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from './paths.js';

// How the operator runs in a cluster, read from the repository: the Dockerfile's stages and the
// Deployment's environment. The image test stages what they describe; the benchmarks start
// the operator the same way.

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** The Dockerfile's stages: continuation lines joined, comments dropped, ARG defaults substituted. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const value = rest.join(' ').replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
    if (op.toUpperCase() === 'ARG' && stages.length === 0) {
      const [k = '', v = ''] = value.split('=');
      args.set(k, v);
    } else if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(value);
      stages.push({ from: m?.[1] ?? value, name: m?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: value });
    }
  }
  return stages;
}

/** `ENV KEY=value` or `ENV KEY="value"` (one variable per instruction, the form this Dockerfile uses). */
export function envInstruction(args: string): [string, string] {
  const m = /^(\w+)=(?:"([^"]*)"|(\S*))$/.exec(args);
  if (m === null) throw new Error(`Dockerfile: cannot read ENV ${args}`);
  return [m[1]!, m[2] ?? m[3] ?? ''];
}

/** The repository's Dockerfile, parsed. */
export function dockerfileStages(): Stage[] {
  return parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
}

/** The runtime (last) stage's ENV instructions. */
export function imageEnv(stages: readonly Stage[] = dockerfileStages()): Record<string, string> {
  return Object.fromEntries((stages.at(-1)?.instructions ?? []).filter((i) => i.op === 'ENV').map((i) => envInstruction(i.args)));
}

/** The Deployment's literal environment (config/manager/manager.yaml). */
export function deploymentEnv(): Record<string, string> {
  const docs = readFileSync(join(REPO, 'config', 'manager', 'manager.yaml'), 'utf8');
  const deployment = parse(docs) as { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } };
  const env = deployment.spec.template.spec.containers[0]?.env ?? [];
  return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}
