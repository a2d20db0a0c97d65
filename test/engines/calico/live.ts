import { isDeepStrictEqual } from 'node:util';
import type { Kube, KubeObject } from '../../harness/client.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/translate/ownership.js';
import type { KubeObject as Translated } from '../../../src/translate/types.js';

// "The operator has done its part": the Calico objects it owns in the cluster are exactly the
// ones `translate` gives for the snapshot the lab applied (name, labels, annotations, spec), no
// more and no fewer.

const KINDS = ['Tier', 'GlobalNetworkPolicy', 'GlobalNetworkSet'] as const;

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null));

function contains(live: Record<string, string> | undefined, want: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => live?.[k] === v);
}

export async function managedObjects(kube: Kube, apiVersion: string): Promise<KubeObject[]> {
  const selector = encodeURIComponent(`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`);
  const out: KubeObject[] = [];
  for (const kind of KINDS) {
    const path = await kube.path(apiVersion, kind);
    const list = await kube.request<{ items: KubeObject[] }>('GET', `${path}?labelSelector=${selector}`);
    out.push(...list.items.map((o) => ({ ...o, kind })));
  }
  return out;
}

/** undefined when the live objects equal the expected ones; else what differs (first few). */
export async function liveDifference(kube: Kube, expected: readonly Translated[]): Promise<string | undefined> {
  const apiVersion = expected[0]?.apiVersion;
  if (apiVersion === undefined) return undefined;
  const live = await managedObjects(kube, apiVersion);
  const key = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;
  const byKey = new Map(live.map((o) => [key(o), o]));
  const problems: string[] = [];
  for (const want of expected) {
    const got = byKey.get(key(want));
    byKey.delete(key(want));
    if (got === undefined) problems.push(`${key(want)} missing`);
    else if (!isDeepStrictEqual(plain(got['spec']), plain(want.spec))) problems.push(`${key(want)} spec differs`);
    else if (!contains(got.metadata['labels'] as Record<string, string>, want.metadata.labels)) problems.push(`${key(want)} labels differ`);
    else if (!contains(got.metadata['annotations'] as Record<string, string>, want.metadata.annotations)) problems.push(`${key(want)} annotations differ`);
  }
  for (const extra of byKey.keys()) problems.push(`${extra} not expected`);
  return problems.length === 0 ? undefined : problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` (+${problems.length - 5} more)` : '');
}
