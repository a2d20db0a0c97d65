import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../../support/paths.js';

// The Cilium policy engine (hack/cilium-engine): Cilium's own parser, sanitiser, identity
// derivation, policy repository and map-state lookup, fed JSON documents on stdin.

/** The agent settings the engine emulates (cilium-config keys, and the release). */
export interface AgentSettings {
  /** "1.16" … "1.20": the engine is 1.20.2's code and stands in for older releases where they differ. */
  readonly agentVersion: string;
  readonly enableNodeSelectorLabels: boolean;
  readonly policyDefaultLocalCluster: boolean;
  readonly policyCidrMatchMode: readonly ('pods' | 'nodes')[];
  /** The identity label filter (cilium-config `labels`), added to Cilium's defaults. */
  readonly labels?: readonly string[];
  readonly nodeLabels?: readonly string[];
  readonly allowLocalhost?: 'always' | 'policy';
}

export interface EnginePod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly string[];
  readonly nodeName?: string;
  readonly hostNetwork: boolean;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly protocol: string }[];
}

export interface EngineCluster {
  readonly namespaces: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>> }[];
  readonly pods: readonly EnginePod[];
  readonly nodes: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly addresses: readonly string[] }[];
}

export type EngineEndpoint = { readonly pod: string } | { readonly ip: string };

export interface EngineFlow {
  readonly from: EngineEndpoint;
  readonly to: EngineEndpoint;
  readonly protocol: string;
  readonly port: number;
}

export interface EngineDocument {
  readonly agent: AgentSettings;
  readonly cluster: EngineCluster;
  readonly networkPolicies: readonly object[];
  /** CiliumClusterwideNetworkPolicies (what the operator writes). */
  readonly ccnps: readonly object[];
  /** ClusterNetworkPolicies, for Cilium 1.20's own support. */
  readonly cnps: readonly object[];
  readonly dns?: Readonly<Record<string, readonly string[]>>;
  readonly flows: readonly EngineFlow[];
}

export interface EngineVerdict {
  readonly egress: 'allow' | 'deny';
  readonly ingress: 'allow' | 'deny';
  readonly egressRule?: string;
  readonly ingressRule?: string;
}

export interface EngineResult {
  /** Objects Cilium's parser or sanitiser refused, with its error. */
  readonly rejected: readonly { readonly kind: string; readonly name: string; readonly error: string }[];
  readonly verdicts: readonly EngineVerdict[];
  /** Per pod ("namespace/name"): the objects ("Kind/name") with a rule selecting its identity. */
  readonly selectedBy: Readonly<Record<string, readonly string[] | null>>;
  /** Per pod: its identity labels (`source:key=value`). */
  readonly identities: Readonly<Record<string, readonly string[]>>;
}

let binary: string | undefined;

/** Builds the engine if needed (minutes the first time, cached by module hash) and returns its path. */
export function engineBinary(): string {
  binary ??= execFileSync('bash', [join(REPO, 'hack', 'cilium-engine', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return binary;
}

/** Runs the engine over documents, one process for all of them; results in the same order. */
export function runEngine(documents: readonly EngineDocument[]): EngineResult[] {
  if (documents.length === 0) return [];
  const r = spawnSync(engineBinary(), [], { input: documents.map((d) => JSON.stringify(d)).join('\n'), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`cilium-engine exited ${String(r.status)}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== documents.length) throw new Error(`cilium-engine answered ${lines.length} of ${documents.length} documents`);
  return lines.map((l) => JSON.parse(l) as EngineResult);
}
