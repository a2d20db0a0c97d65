// A large multi-tenant cluster as Kubernetes objects (for benchmarks only): namespaces grouped
// into tenants, a few pods per namespace with named container ports, one NetworkPolicy per
// namespace, and ClusterNetworkPolicies the way a platform team writes them — cluster-wide
// DNS, metadata and monitoring rules, tenant delegation, egress control, a Baseline default
// deny, and one isolation policy per tenant. Deterministic: the same options, the same objects.

import { parseClusterNetworkPolicy } from '../src/api/cnp.js';
import type { Snapshot } from '../src/api/model.js';
import { parseNamespace, parseNetworkPolicy, parseNode, parsePod } from '../src/api/objects.js';

export type Json = Record<string, unknown>;

export interface ShapeOptions {
  readonly namespaces: number;
  readonly podsPerNamespace: number;
  /** Total ClusterNetworkPolicies: the cluster-wide ones plus one per tenant up to this count. */
  readonly cnps: number;
  /** Namespaces per tenant. */
  readonly tenantSize?: number;
  readonly nodes?: number;
}

const SYSTEM_NAMESPACES = ['kube-system', 'monitoring', 'ingress-nginx'] as const;
const APPS = ['web', 'api', 'worker', 'db'] as const;
export const CNP_API_VERSION = 'policy.networking.k8s.io/v1beta1';

const ns = (name: string): Json => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
const tcp = (number: number): Json => ({ tcp: { destinationPort: { number } } });
const udp = (number: number): Json => ({ udp: { destinationPort: { number } } });

export function namespaceName(i: number): string {
  return `ns-${String(i).padStart(5, '0')}`;
}

export function tenantOf(i: number, tenantSize: number): string {
  return `t${String(Math.floor(i / tenantSize)).padStart(4, '0')}`;
}

/** Pod addresses: 10.128.0.0/9, one per pod index. */
export function podIp(index: number): string {
  const n = index + 16;
  return `10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`;
}

export function nodeName(i: number): string {
  return `node-${String(i).padStart(3, '0')}`;
}

export function namespaceObject(i: number, tenantSize: number): Json {
  const name = namespaceName(i);
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, tenant: tenantOf(i, tenantSize), env: i % 4 === 0 ? 'prod' : 'dev', ...(i % 50 === 0 ? { sensitive: 'true' } : {}) } },
  };
}

/** A pod as the API server stores it once scheduled and started (no kubelet needed to write it). */
export function podObject(namespace: string, name: string, app: string, index: number, nodes: number, extraLabels: Record<string, string> = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels: { app, 'app.kubernetes.io/name': app, 'pod-template-hash': `h${(index * 2654435761) % 100000}`, ...extraLabels } },
    spec: {
      nodeName: nodeName(index % nodes),
      containers: [{ name: 'main', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }] }],
    },
    status: { phase: 'Running', podIP: podIp(index), podIPs: [{ ip: podIp(index) }] },
  };
}

/** Per namespace: ingress only from the namespace itself and the ingress controller. */
export function networkPolicyObject(namespace: string): Json {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name: 'default' },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: {} }, { namespaceSelector: ns('ingress-nginx') }] }],
    },
  };
}

function cnp(name: string, spec: Json): Json {
  return { apiVersion: CNP_API_VERSION, kind: 'ClusterNetworkPolicy', metadata: { name }, spec };
}

/** The cluster-wide policies (every cluster has these few). */
export function clusterWideCnps(): Json[] {
  const tenants = { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] };
  return [
    cnp('deny-cloud-metadata', { tier: 'Admin', priority: 1, subject: { namespaces: {} }, egress: [{ name: 'metadata', action: 'Deny', to: [{ networks: ['169.254.169.254/32'] }] }] }),
    cnp('allow-cluster-dns', {
      tier: 'Admin',
      priority: 5,
      subject: { namespaces: {} },
      egress: [{ name: 'dns', action: 'Accept', to: [{ pods: { namespaceSelector: ns('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } } }], protocols: [udp(53), tcp(53)] }],
    }),
    cnp('protect-sensitive', {
      tier: 'Admin',
      priority: 10,
      subject: { namespaces: { matchLabels: { sensitive: 'true' } } },
      ingress: [
        { name: 'scrapes', action: 'Accept', from: [{ namespaces: ns('monitoring') }], protocols: [{ tcp: { destinationPort: { range: { start: 9090, end: 9100 } } } }] },
        { name: 'everything-else', action: 'Deny', from: [{ namespaces: {} }] },
      ],
    }),
    cnp('delegate-tenant-traffic', { tier: 'Admin', priority: 20, subject: { namespaces: tenants }, ingress: [{ name: 'from-tenants', action: 'Pass', from: [{ namespaces: tenants }] }] }),
    cnp('allow-monitoring-scrapes', {
      tier: 'Admin',
      priority: 30,
      subject: { namespaces: {} },
      ingress: [{ name: 'prometheus', action: 'Accept', from: [{ pods: { namespaceSelector: ns('monitoring'), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } } }], protocols: [{ destinationNamedPort: 'metrics' }] }],
    }),
    cnp('tenant-egress', {
      tier: 'Admin',
      priority: 40,
      subject: { namespaces: tenants },
      egress: [
        { name: 'proxy', action: 'Accept', to: [{ networks: ['192.0.2.10/32'] }], protocols: [tcp(3128)] },
        { name: 'api-server', action: 'Accept', to: [{ nodes: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } }], protocols: [tcp(6443)] },
        { name: 'in-cluster', action: 'Pass', to: [{ namespaces: {} }] },
        { name: 'elsewhere', action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] },
      ],
    }),
    cnp('prod-from-dev', {
      tier: 'Admin',
      priority: 45,
      subject: { namespaces: { matchLabels: { env: 'prod' } } },
      ingress: [{ name: 'dev', action: 'Deny', from: [{ namespaces: { matchLabels: { env: 'dev' } } }] }],
    }),
    cnp('baseline-ingress-controller', {
      tier: 'Baseline',
      priority: 10,
      subject: { namespaces: tenants },
      ingress: [{ name: 'ingress-nginx', action: 'Accept', from: [{ namespaces: ns('ingress-nginx') }], protocols: [{ destinationNamedPort: 'http' }] }],
    }),
    cnp('baseline-default-deny', { tier: 'Baseline', priority: 100, subject: { namespaces: tenants }, ingress: [{ name: 'others', action: 'Deny', from: [{ namespaces: {} }] }] }),
  ];
}

/** One tenant's isolation: its own namespaces may talk, its databases only to its apps, the rest is the Baseline's. */
export function tenantCnp(tenant: string, index: number): Json {
  const own = { matchLabels: { tenant } };
  return cnp(`tenant-${tenant}`, {
    tier: 'Admin',
    priority: 50 + (index % 40),
    subject: { namespaces: own },
    ingress: [
      { name: 'db-from-apps', action: 'Accept', from: [{ pods: { namespaceSelector: own, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api', 'worker'] }] } } }], protocols: [tcp(5432)] },
      { name: 'own-namespaces', action: 'Pass', from: [{ namespaces: own }] },
      { name: 'web-from-ingress', action: 'Accept', from: [{ namespaces: ns('ingress-nginx') }], protocols: [{ destinationNamedPort: 'http' }] },
    ],
    egress: [
      { name: 'own-namespaces', action: 'Pass', to: [{ namespaces: own }] },
      { name: 'partner-api', action: 'Accept', to: [{ networks: [`203.0.113.${(index % 16) * 16}/28`] }], protocols: [tcp(443)] },
      { name: 'other-tenants-db', action: 'Deny', to: [{ pods: { namespaceSelector: { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] }, podSelector: { matchLabels: { app: 'db' } } } }] },
    ],
  });
}

export function nodeObject(i: number): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName(i), labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': nodeName(i), ...(i < 3 ? { 'node-role.kubernetes.io/control-plane': '' } : {}), zone: `z${i % 3}` } },
    status: { addresses: [{ type: 'InternalIP', address: `172.18.${i >> 8}.${(i & 255) + 1}` }] },
  };
}

export interface Shape {
  readonly namespaces: Json[];
  readonly pods: Json[];
  readonly networkPolicies: Json[];
  readonly cnps: Json[];
  readonly nodes: Json[];
}

export function clusterShape(o: ShapeOptions): Shape {
  const tenantSize = o.tenantSize ?? 10;
  const nodes = o.nodes ?? 50;
  const namespaces = [
    ...SYSTEM_NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } })),
    ...Array.from({ length: o.namespaces }, (_, i) => namespaceObject(i, tenantSize)),
  ];
  let index = 0;
  const pods: Json[] = [
    podObject('kube-system', 'coredns-0', 'coredns', index++, nodes, { 'k8s-app': 'kube-dns' }),
    podObject('monitoring', 'prometheus-0', 'prometheus', index++, nodes),
    podObject('ingress-nginx', 'controller-0', 'ingress-nginx', index++, nodes),
  ];
  for (let i = 0; i < o.namespaces; i++) {
    for (let p = 0; p < o.podsPerNamespace; p++) {
      const app = APPS[p % APPS.length]!;
      pods.push(podObject(namespaceName(i), `${app}-${p}`, app, index++, nodes));
    }
  }
  const networkPolicies = Array.from({ length: o.namespaces }, (_, i) => networkPolicyObject(namespaceName(i)));
  const wide = clusterWideCnps();
  const tenants = Math.ceil(o.namespaces / tenantSize);
  const perTenant = Array.from({ length: Math.max(0, Math.min(tenants, o.cnps - wide.length)) }, (_, t) => tenantCnp(tenantOf(t * tenantSize, tenantSize), t));
  return { namespaces, pods, networkPolicies, cnps: [...wide, ...perTenant].slice(0, o.cnps), nodes: Array.from({ length: nodes }, (_, i) => nodeObject(i)) };
}

/** The shape as the translators see it (parsed the way the operator parses what it watches). */
export function shapeSnapshot(shape: Shape): Snapshot {
  const values = <T>(objects: readonly Json[], parse: (raw: unknown) => { value: T | undefined }): T[] => objects.flatMap((o) => {
    const v = parse(o).value;
    return v === undefined ? [] : [v];
  });
  return {
    policies: shape.cnps.flatMap((o) => {
      const p = parseClusterNetworkPolicy(o).policy;
      return p === undefined ? [] : [p];
    }),
    namespaces: values(shape.namespaces, parseNamespace),
    pods: values(shape.pods, parsePod),
    networkPolicies: values(shape.networkPolicies, parseNetworkPolicy),
    nodes: values(shape.nodes, parseNode),
  };
}
