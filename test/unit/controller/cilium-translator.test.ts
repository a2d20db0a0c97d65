import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ciliumTranslator } from '../../../src/controller/cilium-translator.js';
import { wholeTranslator } from '../../../src/controller/translator.js';
import { translateCilium, type CiliumOptions } from '../../../src/translate/cilium/index.js';
import { applyChange, changeSequenceArb } from '../../support/arbitraries-changes.js';
import { desiredView } from '../../support/desired-view.js';

// The operator's Cilium translator (incremental) gives the desired state the whole translation
// gives (wholeTranslator over translateCilium, as the operator did before), and reports the same
// owners as changed, after every step of random change sequences.

const RUNS = Number(process.env.CILIUM_TRANSLATOR_RUNS ?? 80);

describe('ciliumTranslator', () => {
  it('equals wholeTranslator(translateCilium) after every step of random changes', () => {
    fc.assert(
      fc.property(changeSequenceArb({ maxPolicies: 5, maxPods: 6 }, 6), fc.constantFrom<CiliumOptions>({}, { agent: { version: 20, cidrMatchMode: ['pods'] } }, { agent: { labels: 'unknown', nodeLabels: 'unknown', cidrMatchMode: 'unknown' } }), ({ family, snapshot, changes }, options) => {
        const incremental = ciliumTranslator(options);
        const whole = wholeTranslator((s) => translateCilium(s, options));
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

  it('lets every pod event through before its first translation', () => {
    const t = ciliumTranslator({});
    expect(t.podEvent(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' } })).toBe(true);
  });
});
