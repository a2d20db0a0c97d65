import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson, digest } from '../../../src/translate/digest.js';

// canonicalJson's text is stored (digested) in every object the operator writes: it must stay
// exactly the text of this plain definition (keys sorted by `<`, undefined members left out).
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('equals the plain definition on any JSON-like value', () => {
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(undefined), fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.string(), fc.string({ unit: 'grapheme' }), fc.array(tie('any')), fc.dictionary(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('__proto__', 'a', 'B', 'é', '10', '9')), tie('any'))),
    })).any;
    fc.assert(fc.property(value, (v) => {
      expect(canonicalJson(v)).toBe(reference(v));
    }), { numRuns: 2000 });
  });

  it('sorts keys and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: [undefined, { d: undefined, c: 'x' }] })).toBe('{"a":[null,{"c":"x"}],"b":1}');
  });
});

describe('canonicalDigest', () => {
  // Stored in every object written: it must stay the digest of canonicalJson's text.
  it('is the digest of the canonical text, escapes and lone surrogates included', () => {
    const odd = fc.string({ unit: fc.constantFrom('a', 'é', '"', '\\', '\n', '\u0001', '\u2028', '\ud83d', '\ude00', '\ud83d\ude00', '/', '<') });
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(undefined), fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.string(), odd, fc.array(tie('any')), fc.dictionary(fc.oneof(fc.string(), odd, fc.constantFrom('__proto__', 'a', 'B', '10', '9')), tie('any')),
        // Small records and records of more than a dozen keys are hashed in two ways.
        fc.dictionary(fc.oneof(fc.string(), odd, fc.constantFrom('__proto__', 'a', 'B', '10', '9')), fc.oneof(fc.constant(undefined), fc.integer(), fc.string()), { minKeys: 10, maxKeys: 24 })),
    })).any;
    fc.assert(fc.property(value, (v) => {
      expect(canonicalDigest(v)).toBe(digest(canonicalJson(v)));
    }), { numRuns: 3000 });
  });

  it('tells apart values whose texts differ', () => {
    expect(canonicalDigest({ a: '1' })).not.toBe(canonicalDigest({ a: 1 }));
    expect(canonicalDigest(['a"b'])).toBe(digest('["a\\"b"]'));
  });
});
