import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CILIUM_MINORS, DEFAULT_LABEL_EXPRESSIONS, identityLabelFilter } from '../../../../src/translate/cilium/label-filter.js';

// The translator's table of Cilium's default identity label filters against the one
// generated from each release's source (hack/cilium-label-filters.mjs), and the filter's
// semantics on the cases that differ by release. test/engines/cilium/identities.test.ts
// checks the semantics against Cilium's own code.

const generated = JSON.parse(readFileSync(new URL('../../../models/cilium/label-filters.json', import.meta.url), 'utf8')) as {
  releases: Record<string, { expressions: string[] }>;
};

describe('Cilium identity label filter', () => {
  it('has the defaults of every release as the release source has them', () => {
    for (const minor of CILIUM_MINORS) expect(DEFAULT_LABEL_EXPRESSIONS[minor]).toEqual(generated.releases[`1.${minor}`]!.expressions);
  });

  it('keeps and drops labels as each release does', () => {
    const v18 = identityLabelFilter(18, []);
    const v20 = identityLabelFilter(20, []);
    expect(v18.pod('topology.kubernetes.io/zone')).toBe(true);
    expect(v20.pod('topology.kubernetes.io/zone')).toBe(false);
    expect(identityLabelFilter(undefined, []).pod('topology.kubernetes.io/zone')).toBe(false);
    for (const f of [v18, v20]) {
      expect(f.pod('app')).toBe(true);
      expect(f.pod('app.kubernetes.io/name')).toBe(true);
      expect(f.pod('kubernetes.io/hostname')).toBe(false);
      expect(f.pod('node.beta.kubernetes.io/role')).toBe(false);
      expect(f.pod('pod-template-hash')).toBe(false);
      expect(f.pod('statefulset.kubernetes.io/pod-name')).toBe(false);
      expect(f.pod('io.cilium.k8s.anything')).toBe(false);
      expect(f.pod('sub.kubernetes.io/x')).toBe(true); // the ignores match at the start of the key only
      expect(f.namespace('kubernetes.io/metadata.name')).toBe(true);
      expect(f.namespace('beta.kubernetes.io/x')).toBe(false); // the ignore's match is longer than the include's
    }
  });

  it('turns into an allow-list with an inclusive prefix in cilium-config labels, and trusts only the defaults when it cannot be read', () => {
    const allow = identityLabelFilter(20, ['k8s:app', 'k8s:!app-x']);
    expect(allow.pod('app')).toBe(true);
    expect(allow.pod('app-x')).toBe(false);
    expect(allow.pod('team')).toBe(false);
    expect(allow.namespace('team')).toBe(true);
    const unknown = identityLabelFilter(undefined, 'unknown');
    expect(unknown.pod('app')).toBe(false);
    expect(unknown.pod('app.kubernetes.io/name')).toBe(true);
    expect(unknown.namespace('kubernetes.io/metadata.name')).toBe(true);
  });
});
