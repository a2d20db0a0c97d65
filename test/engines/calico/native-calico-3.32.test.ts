import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from './lab.js';
import { preflight } from './preflight.js';
import { CONFORMANCE_FELIX_NODE, describeMismatches, replayConformance, summaryLine } from './replay.js';

// Calico 3.32 enforces ClusterNetworkPolicies itself (v1alpha2, whenever the CRD serves it): the
// same suite on Felix 3.32.1 with no operator, for the README's support matrix. Its score is a
// measurement of Calico, not of this project; the test pins the probes where it deviates, so a
// change in Calico's behaviour (or in the lab) shows up as a failure to look at.

const VERSION = '3.32.1';

/**
 * Measured with this lab: 393/397. All four are `nodes` peers, which Calico's own conversion does
 * not handle (libcalico-go clusternetworkpolicy.go): the rule fails closed, so these Accept rules
 * are dropped and the flows they should allow are denied. None is fail-open.
 */
const KNOWN_DEVIATIONS: readonly string[] = [
  `CNPAdminTierEgressNodePeers step 0 "Should support a 'pass-egress' rule policy for egress-node-peer": network-policy-conformance-gryffindor/harry-potter-1 -> network-policy-conformance-forbidden-forrest/centaur-1 UDP/34347: expected allow, observed deny`,
  `CNPAdminTierEgressNodePeers step 0 "Should support an 'allow-egress' rule policy for egress-node-peer": network-policy-conformance-gryffindor/harry-potter-1 -> network-policy-conformance-forbidden-forrest/centaur-1 TCP/34345: expected allow, observed deny`,
  `CNPBaselineTierEgressNodePeers step 0 "Should support an 'allow-egress' rule policy for egress-node-peer": network-policy-conformance-gryffindor/harry-potter-0 -> network-policy-conformance-forbidden-forrest/centaur-1 TCP/34345: expected allow, observed deny`,
  `CNPBaselineTierEgressNodePeers step 0 "Should support an 'allow-egress' rule policy for egress-node-peer": network-policy-conformance-gryffindor/harry-potter-1 -> network-policy-conformance-forbidden-forrest/centaur-1 TCP/34346: expected allow, observed deny`,
];

describe(`Calico v${VERSION} enforcing ClusterNetworkPolicies natively (no operator), real packets`, () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    await preflight('iptables');
    lab = await Lab.start({ version: VERSION, dataplane: 'iptables', mode: 'native', felixNode: CONFORMANCE_FELIX_NODE, felixNodeIp: '172.18.0.2' });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('serves v1alpha2, the version Calico 3.32 reads', () => {
    expect(lab!.cluster.cnpVersions).toContain('v1alpha2');
  });

  it('scores the v0.3.0 suite as measured', async () => {
    const s = await replayConformance(lab!);
    console.log(`${summaryLine(`calico v${VERSION} native (felix iptables)`, s)}${s.mismatches.length === 0 ? '' : `; deviations:\n${describeMismatches(s)}`}`);
    expect(s.total).toBe(397);
    expect(s.failOpen).toBe(0);
    expect(s.mismatches.map((m) => `${m.description}: expected ${m.expect}, observed ${m.observed}`).sort()).toEqual([...KNOWN_DEVIATIONS].sort());
  });
});
