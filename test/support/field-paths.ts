import { Checker, type Diagnostic } from '../../src/api/diagnostics.js';

/**
 * Every field path of a value as Checker writes it, and paths that leave it (a missing key, an
 * index past the end, a step into a scalar): what a parser's positions are checked on.
 */
export function fieldPaths(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, c: Checker): void => {
    out.push(c.path);
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, c.index(i)));
      out.push(c.index(v.length).path, c.field('missing').path);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, c.field(k));
      out.push(c.field('missing').path, c.index(0).path);
    } else {
      out.push(c.field('deeper').path, c.index(0).path);
    }
  };
  walk(value, new Checker([] as Diagnostic[], ''));
  return out;
}
