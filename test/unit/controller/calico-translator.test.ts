import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calicoTranslator, wholeTranslator } from '../../../src/controller/translator.js';
import { translateCalico, type CalicoOptions } from '../../../src/translate/calico/index.js';
import { applyChange, changeSequenceArb } from '../../support/arbitraries-changes.js';
import { desiredView } from '../../support/desired-view.js';

// The operator's Calico translator (incremental, its maps updated in place) gives the desired
// state the whole translation gives, and reports exactly the owners whose objects or findings
// changed, after every step of random change sequences.

const RUNS = Number(process.env.CALICO_TRANSLATOR_RUNS ?? 100);

describe('calicoTranslator', () => {
  it('equals wholeTranslator(translateCalico) after every step of random changes', () => {
    fc.assert(
      fc.property(changeSequenceArb({ maxPolicies: 6, maxPods: 4 }, 8), fc.constantFrom<CalicoOptions>({ api: 'projectcalico.org/v3' }, { api: 'crd.projectcalico.org/v1' }), ({ family, snapshot, changes }, options) => {
        const incremental = calicoTranslator(options);
        const whole = wholeTranslator((s) => translateCalico(s, options));
        let s = snapshot;
        for (let step = 0; step <= changes.length; step++) {
          if (step > 0) s = applyChange(s, changes[step - 1]!, family, step);
          const a = incremental.update(s);
          const b = whole.update(s);
          expect(desiredView(a.desired)).toEqual(desiredView(b.desired));
          expect([...a.changed].sort()).toEqual([...b.changed].sort());
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
