import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIGURATIONS } from './configs.js';
import { engineBinary } from './engine.js';
import { scoreNative, scoreOurs, summaryLine, type SuiteScore } from './suite.js';

// All 397 probes of the network-policy-api v0.3.0 suite, decided by Cilium's own policy
// engine (hack/cilium-engine, Cilium 1.20.2 standing in for older agents where they differ)
// over the CiliumClusterwideNetworkPolicies `translate` writes for each agent configuration;
// and, where Cilium has it (1.20), its own ClusterNetworkPolicy support on the suite's objects.

/** Probes matched per configuration: what the engine measured; a change either way is news. */
const OURS: Record<string, number> = {
  '1.16–1.18 defaults': 381,
  '1.19 defaults': 381,
  '1.19, enable-node-selector-labels': 381,
  '1.20 defaults': 381,
  '1.20, enable-node-selector-labels, policy-cidr-match-mode pods,nodes': 393,
  '1.20, labels k8s:app k8s:team k8s:tier, policy-default-local-cluster off': 353,
};

/** Cilium 1.20.2's own support: matched, fail-open, objects rejected. */
const NATIVE: Record<string, [number, number, number]> = {
  '1.20 defaults': [358, 35, 2],
  '1.20, enable-node-selector-labels, policy-cidr-match-mode pods,nodes': [393, 0, 0],
};

beforeAll(() => {
  engineBinary();
});

describe('the conformance suite in Cilium 1.20.2\'s policy engine', () => {
  for (const config of CONFIGURATIONS) {
    it(`ours, ${config.name}: never fails open, every inexact probe reported, nothing refused`, () => {
      const score = scoreOurs(config);
      console.log(summaryLine(`cilium engine, ours, ${config.name}`, score));
      expect(score.rejected).toEqual([]);
      expect(score.failOpen).toBe(0);
      expect(score.unreported).toBe(0);
      expect(score.total).toBe(397);
      expect(score.matched, score.misses.join('\n')).toBe(OURS[config.name]);
    });
    if (!config.native) continue;
    it(`Cilium's own ClusterNetworkPolicy support, ${config.name}`, () => {
      const native: SuiteScore = scoreNative(config);
      console.log(summaryLine(`cilium engine, native, ${config.name}`, native));
      expect([native.matched, native.failOpen, native.rejected.length], native.misses.join('\n')).toEqual(NATIVE[config.name]);
      // Ours on the same settings: at least as many probes, and never open.
      expect(scoreOurs(config).matched).toBeGreaterThanOrEqual(native.matched);
    });
  }
});
