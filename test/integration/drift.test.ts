import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterNetworkPolicy } from '../../src/api/cnp.js';
import { parseNode } from '../../src/api/objects.js';
import type { Node, Policy, Snapshot } from '../../src/api/model.js';
import { translateCalico } from '../../src/translate/calico/index.js';
import { translateCilium } from '../../src/translate/cilium/index.js';
import { canonicalJson, stampDigests } from '../../src/translate/digest.js';
import type { KubeObject } from '../../src/controller/port.js';
import { kube, uniqueName, waitFor } from '../harness/index.js';
import { setCalicoVersion, startOperator, type RunningOperator } from './operator.js';

// Whole-object drift protection, for every kind the operator writes: another field manager
// adds a field, adds a rule, removes a rule, changes a label, adds an owner reference — each
// is reverted, with a DriftCorrected event naming the fields and the counter; the same edits
// made while the operator is stopped are reverted when it starts. "Reverted" means the live
// object equals what the translator makes of the live CNPs and Nodes, checked here on its own.

const CNP = 'policy.networking.k8s.io/v1beta1';

interface Edit {
  readonly what: string;
  /** The field path (or its start) the event must name. */
  readonly path: string;
  readonly apply: (o: KubeObject) => void;
}

interface Form {
  readonly title: string;
  readonly detect: Parameters<typeof startOperator>[0];
  readonly translate: (s: Snapshot) => readonly KubeObject[];
  /** The generated objects to edit, by kind, and the edits that make sense for each. */
  readonly edits: Record<string, readonly Edit[]>;
}

type Json = Record<string, unknown>;
const spec = (o: KubeObject): Json => o['spec'] as Json;
const first = (o: KubeObject): Json => (o['specs'] as Json[])[0]!;

/** Edits every kind can take on its metadata. */
const metadataEdits = (otherOwner: () => KubeObject): Edit[] => [
  { what: 'changes a label', path: 'metadata.labels["app.kubernetes.io/managed-by"]', apply: (o) => void (o.metadata.labels = { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'someone-else' }) },
  {
    what: 'adds an owner reference',
    path: 'metadata.ownerReferences',
    apply: (o) => {
      const other = otherOwner();
      o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), { apiVersion: CNP, kind: 'ClusterNetworkPolicy', name: other.metadata.name, uid: other.metadata.uid! }];
    },
  },
];

function calicoEdits(otherOwner: () => KubeObject): Record<string, readonly Edit[]> {
  return {
    Tier: [{ what: 'changes a field', path: 'spec.order', apply: (o) => void (spec(o)['order'] = 1) }, ...metadataEdits(otherOwner)],
    GlobalNetworkPolicy: [
      { what: 'adds a field', path: 'spec.serviceAccountSelector', apply: (o) => void (spec(o)['serviceAccountSelector'] = "nobody == 'x'") },
      { what: 'adds a rule', path: 'spec.egress[', apply: (o) => void (spec(o)['egress'] as Json[]).push({ action: 'Allow' }) },
      { what: 'removes a rule', path: 'spec.egress[0]', apply: (o) => void (spec(o)['egress'] = []) },
      ...metadataEdits(otherOwner),
    ],
    GlobalNetworkSet: [
      { what: 'adds an address', path: 'spec.nets[1]', apply: (o) => void (spec(o)['nets'] as string[]).push('203.0.113.9/32') },
      { what: 'removes an address', path: 'spec.nets[0]', apply: (o) => void (spec(o)['nets'] = []) },
      ...metadataEdits(otherOwner),
    ],
  };
}

function ciliumEdits(otherOwner: () => KubeObject): Record<string, readonly Edit[]> {
  return {
    CiliumClusterwideNetworkPolicy: [
      { what: 'adds a field', path: 'specs[0].description', apply: (o) => void (first(o)['description'] = 'edited') },
      { what: 'adds a rule', path: 'specs[0].ingressDeny', apply: (o) => void (first(o)['ingressDeny'] = [{ fromEntities: ['all'] }]) },
      { what: 'removes a rule', path: 'specs[0].egressDeny[0]', apply: (o) => void (first(o)['egressDeny'] = []) },
      ...metadataEdits(otherOwner),
    ],
  };
}

/** A Deny to a CIDR and an Accept to nodes: a policy, a node set, the tiers. */
function policySpec(): Json {
  return {
    tier: 'Admin',
    priority: 11,
    subject: { namespaces: { matchLabels: { team: 'drift' } } },
    egress: [
      { name: 'no-doc-net', action: 'Deny', to: [{ networks: ['198.51.100.0/24'] }] },
      { name: 'api', action: 'Accept', to: [{ nodes: { matchLabels: { 'drift-test': 'yes' } } }], protocols: [{ tcp: { destinationPort: { number: 6443 } } }] },
    ],
  };
}

/** What the translator makes of the live CNPs and Nodes: the objects that should exist. */
async function expected(form: Form, name: string): Promise<KubeObject[]> {
  const policies = (await kube().list(CNP, 'ClusterNetworkPolicy')).flatMap((o) => {
    const p = parseClusterNetworkPolicy(o, { origin: 'cluster' }).policy;
    return p === undefined ? [] : [p];
  }) as Policy[];
  const nodes = (await kube().list('v1', 'Node')).flatMap((o) => {
    const n = parseNode(o).value;
    return n === undefined ? [] : [n];
  }) as Node[];
  const snapshot: Snapshot = { policies, nodes, namespaces: [], pods: [], networkPolicies: [] };
  return form.translate(snapshot).filter((o) => o.metadata.annotations?.['policy.cnp-operator.io/cnp'] === name || o.kind === 'Tier');
}

/** The live object equals the expected one: body, the operator's labels and annotations, owner references. */
function equal(live: KubeObject | undefined, want: KubeObject): boolean {
  if (live === undefined) return false;
  const body = (o: KubeObject) => canonicalJson(Object.fromEntries(Object.entries(o).filter(([k]) => !['apiVersion', 'kind', 'metadata', 'status'].includes(k))));
  const pick = (m: Record<string, string> | undefined, keys: Record<string, string> | undefined) => canonicalJson(Object.fromEntries(Object.keys(keys ?? {}).map((k) => [k, m?.[k]])));
  return (
    body(live) === body(want) &&
    pick(live.metadata.labels, want.metadata.labels) === canonicalJson(want.metadata.labels ?? {}) &&
    pick(live.metadata.annotations, want.metadata.annotations) === canonicalJson(want.metadata.annotations ?? {}) &&
    canonicalJson(live.metadata.ownerReferences ?? []) === canonicalJson(want.metadata.ownerReferences ?? [])
  );
}

async function get(obj: KubeObject): Promise<KubeObject | undefined> {
  return (await kube().get(obj.apiVersion, obj.kind, obj.metadata.name)) as KubeObject | undefined;
}

async function edit(obj: KubeObject, change: Edit): Promise<void> {
  // Another field manager, as kubectl edit would: a whole-object update.
  const live = (await get(obj))!;
  delete live.metadata.managedFields;
  change.apply(live);
  const plural = `${obj.kind.toLowerCase().replace(/y$/, 'ie')}s`;
  await kube().request('PUT', `/apis/${obj.apiVersion}/${plural}/${obj.metadata.name}?fieldManager=someone-else`, live);
}

async function driftEvents(objectName: string): Promise<string[]> {
  const events = await kube().list('v1', 'Event', 'default');
  return events.filter((e) => e['reason'] === 'DriftCorrected' && String(e['message']).includes(` ${objectName} `)).map((e) => String(e['message']));
}

const forms = (otherOwner: () => KubeObject): Form[] => [
  { title: 'Calico, projectcalico.org/v3', detect: { detect: { backend: 'calico', force: false, calicoApi: 'projectcalico.org/v3' } }, translate: (s) => stampDigests(translateCalico(s, { api: 'projectcalico.org/v3' })).objects as KubeObject[], edits: calicoEdits(otherOwner) },
  { title: 'Calico, crd.projectcalico.org/v1', detect: { detect: { backend: 'calico', force: false, calicoApi: 'crd.projectcalico.org/v1' } }, translate: (s) => stampDigests(translateCalico(s, { api: 'crd.projectcalico.org/v1' })).objects as KubeObject[], edits: calicoEdits(otherOwner) },
  { title: 'Cilium', detect: { detect: { backend: 'cilium', force: false } }, translate: (s) => stampDigests(translateCilium(s)).objects as KubeObject[], edits: ciliumEdits(otherOwner) },
];

let other: KubeObject;
const nodeName = uniqueName('drift-node');

beforeAll(async () => {
  await setCalicoVersion('v3.31.7');
  await kube().apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'drift-test': 'yes' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.55' }] } });
  other = (await kube().create({ apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name: uniqueName('other-owner') }, spec: { tier: 'Baseline', priority: 999, subject: { namespaces: { matchLabels: { nobody: 'here' } } } } })) as KubeObject;
});
afterAll(async () => {
  await kube().delete('v1', 'Node', nodeName);
  await kube().delete(CNP, 'ClusterNetworkPolicy', other.metadata.name);
});

describe.each(forms(() => other))('drift of what the operator wrote: $title', (form) => {
  const name = uniqueName('drift');
  let op: RunningOperator | undefined;

  beforeAll(async () => {
    op = await startOperator(form.detect);
    await kube().create({ apiVersion: CNP, kind: 'ClusterNetworkPolicy', metadata: { name }, spec: policySpec() });
    await converged(form, name);
  });
  afterAll(async () => {
    await op?.stop();
    await kube().delete(CNP, 'ClusterNetworkPolicy', name);
  });

  async function converged(f: Form, n: string): Promise<KubeObject[]> {
    return waitFor(async () => {
      const want = await expected(f, n);
      for (const w of want) if (!equal(await get(w), w)) return undefined;
      return want;
    }, { timeout: 60_000, interval: 50, message: `the objects of ${n} to equal the translation` });
  }

  it('reverts every edit by another manager, with an event naming the field and the counter', async () => {
    const objects = await converged(form, name);
    for (const [kind, edits] of Object.entries(form.edits)) {
      const obj = objects.find((o) => o.kind === kind && (kind !== 'Tier' || o.metadata.name === 'cnp-admin'));
      expect(obj, kind).toBeDefined();
      for (const change of edits) {
        const before = op!.manager.driftCorrections;
        const started = Date.now();
        await edit(obj!, change);
        await converged(form, name);
        const seconds = (Date.now() - started) / 1000;
        console.log(`${form.title}: ${kind} ${change.what}: reverted in ${seconds.toFixed(2)} s`);
        await waitFor(() => op!.manager.driftCorrections > before, { message: `the counter after: ${kind} ${change.what}` });
        await waitFor(async () => (await driftEvents(obj!.metadata.name)).some((m) => m.includes(change.path)), { message: `an event naming ${change.path}` });
      }
    }
  }, 300_000);

  it('reverts the same edits made while it was stopped, when it starts', async () => {
    const objects = await converged(form, name);
    await op!.stop();
    op = undefined;
    const changed: string[] = [];
    for (const [kind, edits] of Object.entries(form.edits)) {
      const obj = objects.find((o) => o.kind === kind && (kind !== 'Tier' || o.metadata.name === 'cnp-admin'))!;
      // One edit per kind (later edits of the same field would hide earlier ones).
      await edit(obj, edits[0]!);
      changed.push(`${obj.metadata.name}: ${edits[0]!.path}`);
    }
    const eventsBefore = (await kube().list('v1', 'Event', 'default')).length;
    op = await startOperator(form.detect);
    await converged(form, name);
    await waitFor(() => op!.manager.driftCorrections >= changed.length, { message: `${changed.length} corrections counted at start` });
    for (const c of changed) {
      const [objectName, path] = c.split(': ') as [string, string];
      await waitFor(async () => (await driftEvents(objectName)).some((m) => m.includes(path)), { message: `an event for ${c}` });
    }
    expect((await kube().list('v1', 'Event', 'default')).length).toBeGreaterThan(eventsBefore);
  }, 300_000);
});
