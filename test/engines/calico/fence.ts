import type { Kube, KubeObject } from '../../harness/client.js';
import { waitWhileAlive } from './alive.js';
import type { Felix } from './felix.js';
import type { LabNetwork } from './network.js';
import { applyNamespace, createPod, relabelPod } from './workload.js';
import type { Pod } from '../../../src/api/model.js';

// How the lab knows Felix has enforced everything written so far, without sleeping.
//
// Felix reads each resource type through its own watch, and a watch delivers one type's events
// in the order they were written. So after the lab's writes, it writes a "fence" through every
// watch that carries policy state (pods, namespaces, global network sets, global network
// policies, NetworkPolicies, and with Calico's native support ClusterNetworkPolicies), each
// carrying a new generation number n, and waits until Felix's data plane shows all of them:
// a rule for TCP port P(n) (needs the fence policy, pod and namespace at n), an IP set member
// 198.18.x.y (needs the network set at n), port Q(n) (the NetworkPolicy) and R(n) (the CNP).
// Felix applies its updates in order, so once the fence is in the kernel, so is everything
// before it. The fence policy only selects the fence pod and only says Pass, so it changes no
// probe's fate.

export const FENCE_NAMESPACE = 'cnp-lab-fence';
const FENCE_POD = 'fence';
/** Outside every range the suites use for pods (10.244.0.0/16). */
const FENCE_POD_IP = '10.250.0.1';
const LABEL = 'cnp-lab-fence';
const SET_LABEL = 'cnp-lab-fence-set';
const TIER = 'lab-fence';
const CALICO = 'crd.projectcalico.org/v1';

const policyPort = (n: number): number => 41000 + (n % 4000);
const networkPolicyPort = (n: number): number => 45000 + (n % 4000);
const cnpPort = (n: number): number => 49000 + (n % 4000);
const setMember = (n: number): string => `198.18.${(n >> 8) & 255}.${n & 255}`;

function hasPort(dump: string, port: number): boolean {
  return new RegExp(`dports? (?:\\{ )?${port}\\b`).test(dump);
}

function hasAddress(dump: string, ip: string): boolean {
  return new RegExp(`(^|[^0-9.])${ip.replace(/\./g, '\\.')}([^0-9.]|$)`, 'm').test(dump);
}

export class Fence {
  private n = 0;

  constructor(
    private readonly kube: Kube,
    private readonly felixNode: string,
    /** Calico 3.32 enforcing CNPs itself: fence its CNP watch too. */
    private readonly throughCnps: boolean,
  ) {}

  private pod(): Pod {
    return {
      namespace: FENCE_NAMESPACE,
      name: FENCE_POD,
      labels: { [LABEL]: String(this.n) },
      hostNetwork: false,
      nodeName: this.felixNode,
      ips: [FENCE_POD_IP],
      ports: [],
    };
  }

  async install(network: LabNetwork): Promise<void> {
    await this.kube.apply({ apiVersion: CALICO, kind: 'Tier', metadata: { name: TIER }, spec: { order: 1, defaultAction: 'Pass' } }, { fieldManager: 'calico-lab-fence' });
    await applyNamespace(this.kube, { name: FENCE_NAMESPACE, labels: { [LABEL]: String(this.n) } });
    await network.addPod(FENCE_NAMESPACE, FENCE_POD, FENCE_POD_IP);
    await createPod(this.kube, this.pod());
  }

  private objects(n: number): KubeObject[] {
    const v = String(n);
    const objects: KubeObject[] = [
      { apiVersion: CALICO, kind: 'GlobalNetworkSet', metadata: { name: TIER, labels: { [SET_LABEL]: v } }, spec: { nets: [`${setMember(n)}/32`] } },
      {
        apiVersion: CALICO,
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `${TIER}.fence` },
        spec: {
          tier: TIER,
          order: 0,
          selector: `${LABEL} == '${v}'`,
          namespaceSelector: `${LABEL} == '${v}'`,
          types: ['Ingress'],
          ingress: [
            { action: 'Pass', protocol: 'TCP', destination: { ports: [policyPort(n)] } },
            { action: 'Pass', source: { selector: `${SET_LABEL} == '${v}'`, namespaceSelector: 'global()' } },
          ],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'lab-fence', namespace: FENCE_NAMESPACE },
        spec: { podSelector: { matchLabels: { [LABEL]: v } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'TCP', port: networkPolicyPort(n) }] }] },
      },
    ];
    if (this.throughCnps) {
      objects.push({
        apiVersion: 'policy.networking.k8s.io/v1alpha2',
        kind: 'ClusterNetworkPolicy',
        metadata: { name: 'lab-fence' },
        spec: {
          tier: 'Admin',
          priority: 1000,
          subject: { pods: { namespaceSelector: { matchLabels: { [LABEL]: v } }, podSelector: { matchLabels: { [LABEL]: v } } } },
          ingress: [{ name: 'fence', action: 'Pass', from: [{ namespaces: {} }], protocols: [{ tcp: { destinationPort: { number: cnpPort(n) } } }] }],
        },
      });
    }
    return objects;
  }

  /** Writes fence n+1 after everything written so far and waits until Felix has programmed it. */
  async pass(felix: Felix, timeout = 120_000): Promise<void> {
    const n = ++this.n;
    await relabelPod(this.kube, this.pod());
    await applyNamespace(this.kube, { name: FENCE_NAMESPACE, labels: { [LABEL]: String(n) } });
    for (const obj of this.objects(n)) await this.kube.apply(obj, { fieldManager: 'calico-lab-fence' });
    await waitWhileAlive(
      async () => {
        const dump = await felix.dataplane();
        const missing: string[] = [];
        if (!hasPort(dump, policyPort(n))) missing.push(`the GlobalNetworkPolicy rule for port ${policyPort(n)}`);
        if (!hasAddress(dump, setMember(n))) missing.push(`the GlobalNetworkSet member ${setMember(n)}`);
        if (!hasPort(dump, networkPolicyPort(n))) missing.push(`the NetworkPolicy rule for port ${networkPolicyPort(n)}`);
        if (this.throughCnps && !hasPort(dump, cnpPort(n))) missing.push(`the ClusterNetworkPolicy rule for port ${cnpPort(n)}`);
        // Thrown, not returned: waitFor reports the last error when it gives up.
        if (missing.length > 0) throw new Error(`not yet in the data plane: ${missing.join(', ')}`);
        return true;
      },
      () => felix.assertRunning(),
      { timeout, interval: 250, message: `Felix to program fence ${n}` },
    );
  }
}
