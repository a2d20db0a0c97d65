import { describe, expect, it } from 'vitest';
import { translateCalico, type CalicoApi } from '../../../src/translate/calico/index.js';
import { CalicoModel, type CalicoModelOptions } from '../../models/calico/index.js';
import { loadConformance, type Family } from '../../support/conformance.js';

// Every probe of the network-policy-api v0.3.0 conformance suite, decided by the Calico model over
// the translated objects, must give the expected verdict — for both API groups, IPv4 and IPv6, Calico 3.31 and 3.32
// behaviour, with and without auto host endpoints.

const CONFIGS: { api: CalicoApi; model: CalicoModelOptions }[] = [
  { api: 'projectcalico.org/v3', model: { version: '3.31' } },
  { api: 'projectcalico.org/v3', model: { version: '3.32', autoHostEndpoints: true } },
  { api: 'crd.projectcalico.org/v1', model: { version: '3.31', autoHostEndpoints: true } },
  { api: 'crd.projectcalico.org/v1', model: { version: '3.32' } },
];

describe.each([4, 6] as Family[])('upstream conformance suite through the Calico translation and model (IPv%i)', (family) => {
  const cases = loadConformance(family);

  it('covers every case and probe of the v0.3.0 suite', () => {
    expect(cases).toHaveLength(30);
    expect(cases.flatMap((c) => c.steps.flatMap((s) => s.probes))).toHaveLength(397);
  });

  for (const c of cases) {
    it(c.name, () => {
      const failures: string[] = [];
      let probes = 0;
      for (const config of CONFIGS) {
        for (const step of c.steps) {
          const translation = translateCalico(step.snapshot, { api: config.api });
          const model = new CalicoModel(translation.objects, step.snapshot, config.model);
          for (const probe of step.probes) {
            probes++;
            const result = model.evaluate(probe.flow);
            if (result.verdict !== probe.expect) {
              failures.push(
                `[${config.api} ${JSON.stringify(config.model)}] ${probe.description}: expected ${probe.expect}, got ${result.verdict}\n  egress: ${result.egress.trace.join(' | ')}\n  ingress: ${result.ingress.trace.join(' | ')}`,
              );
            }
          }
        }
      }
      expect(probes).toBeGreaterThan(0);
      expect(failures).toEqual([]);
    });
  }
});
