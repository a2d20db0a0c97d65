import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calicoTranslator, wholeTranslator } from '../../../src/controller/translator.js';
import type { Policy } from '../../../src/api/model.js';
import { translateCalico, type CalicoOptions } from '../../../src/translate/calico/index.js';
import { applyChange, changeSequenceArb } from '../../support/arbitraries-changes.js';
import { desiredView } from '../../support/desired-view.js';

// The operator's Calico translator (incremental, its maps updated in place) gives the desired
// state the whole translation gives, after every step of random change sequences. It reports
// every owner whose objects or findings changed, and besides them only CNPs whose policy is a
// new object (parsed again): it fingerprints inputs, not output.

const RUNS = Number(process.env.CALICO_TRANSLATOR_RUNS ?? 100);

describe('calicoTranslator', () => {
  it('equals wholeTranslator(translateCalico) after every step of random changes', () => {
    fc.assert(
      fc.property(changeSequenceArb({ maxPolicies: 6, maxPods: 4 }, 8), fc.constantFrom<CalicoOptions>({ api: 'projectcalico.org/v3' }, { api: 'crd.projectcalico.org/v1' }), ({ family, snapshot, changes }, options) => {
        const incremental = calicoTranslator(options);
        const whole = wholeTranslator((s) => translateCalico(s, options));
        let s = snapshot;
        let before = new Map<string, Policy>();
        for (let step = 0; step <= changes.length; step++) {
          if (step > 0) s = applyChange(s, changes[step - 1]!, family, step);
          const a = incremental.update(s);
          const b = whole.update(s);
          // Findings asked for before objects (a status pass that reuses what an earlier pass wrote).
          if (step % 2 === 1) for (const p of s.policies) expect(a.desired.findings(p.name)).toEqual(b.desired.findings(p.name));
          expect(desiredView(a.desired)).toEqual(desiredView(b.desired));
          const reported = new Set(a.changed);
          for (const owner of b.changed) expect(reported, `step ${step}: ${owner} changed`).toContain(owner);
          const reparsed = new Set(s.policies.filter((p) => before.get(p.name) !== p).map((p) => p.name));
          for (const owner of reported) if (!b.changed.includes(owner)) expect(reparsed, `step ${step}: ${owner} reported`).toContain(owner);
          before = new Map(s.policies.map((p) => [p.name, p]));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('reports nothing changed when nothing did, and keeps the same objects', () => {
    const snapshot = { policies: [], networkPolicies: [], namespaces: [], pods: [], nodes: [] };
    const t = calicoTranslator({ api: 'projectcalico.org/v3' });
    expect(t.update(snapshot).changed).toEqual(['']);
    expect(t.update({ ...snapshot }).changed).toEqual([]);
  });
});
