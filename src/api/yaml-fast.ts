import { FAILSAFE_SCHEMA, loadAll, Type } from 'js-yaml';

// A fast reader for the YAML that the `yaml` library (see parseYaml in documents.ts) would read
// to the same values: js-yaml is about nine times faster on large multi-document input. It is
// used only where it is known to agree; anything else is left to the `yaml` library, which also
// gives the errors with their positions.
//
// Where the two differ, and what is done about it:
// - Scalars: js-yaml's CORE_SCHEMA reads `0b11`, `-0x1F`, `+0o17` as numbers, `1e400` and
//   400-digit integers as strings, and `-0` as 0; the `yaml` library's core schema does not. So
//   plain scalars are resolved here with the `yaml` library's own core-schema tests (below), not
//   js-yaml's.
// - A null key is '' to the `yaml` library and 'null' to js-yaml; keys that could be one of them
//   ('', '~', 'null', 'Null', 'NULL') are left to the `yaml` library. So are keys that are
//   collections (`? [a]: b`, `[a]: b`, `{a: 1}: b`: stringified differently), which is why any
//   `?` indicator and any `]` or `}` followed by `:` is, and a flow collection that starts an
//   entry of a flow map (`{[a]}`, see indentsSafe).
// - Any `#` that has other than a blank or a line break on either side (`a#b`, `#c`) is left to
//   the `yaml` library: see below.
// - Anchors, aliases, tags, merge keys and directives (`&`, `*`, `!`, `<<`, `%` at a line start)
//   are not read here at all, nor tabs, a lone carriage return, a byte order mark, or a line
//   starting with `...` (document end) or with `---` and more than a comment (js-yaml takes
//   `---a` for a document start, and reads `--- a: 1`, which the `yaml` library refuses).
// - js-yaml reads what the `yaml` library refuses: a comment right after a quoted scalar or a
//   flow indicator (`"a"#c`, `{#c`); a comment line `#c` between a key and its value on the
//   next line, followed by another key; a block scalar whose indentation indicator (`>1`) does
//   not fit its lines; block sequence entries at another indentation after an empty entry (`-` alone on its
//   line); flow collections and quoted scalars whose further lines are not indented enough (see
//   indentsSafe). Text that could hold any of them is left to the `yaml` library.
// - The `yaml` library refuses an implicit key whose `:` is more than 1024 characters after its
//   start; js-yaml does not. Keys longer than 100 characters (an escape is at most 10 characters
//   of text per character of key), and runs of 50 blanks before a `:`, are left to it.
// - Documents: each `---` line starts one, as does content before the first; js-yaml gives one
//   value per document (null for an empty one) and the count must match, or the text is left
//   to the `yaml` library.
// - js-yaml refuses duplicate keys as the `yaml` library does with uniqueKeys (by the key's
//   string: where they differ, js-yaml refuses and the `yaml` library decides).
// - The `yaml` library refuses a block scalar whose leading empty lines are indented more than its
//   first line (without an indentation indicator); js-yaml reads it. Lines of blanks alone are refused.
// These were found by comparing the two on generated and on randomly broken YAML
// (test/unit/api/yaml-fast.test.ts); the guards are deliberately broader than the cases found.

// The `yaml` library's core schema (yaml/dist/schema/core/*.js), in its order.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar as the `yaml` library's core schema reads it (tags and options as parseYaml uses them). */
export function coreScalar(s: string): null | boolean | number | string {
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

// One implicit type for every plain scalar: js-yaml hands each plain scalar to it (quoted and
// block scalars are strings without it).
const plain = new Type('tag:yaml.org,2002:core-plain', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string',
  construct: (data: string) => coreScalar(data),
});
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [plain] });

/** Text that js-yaml is not asked to read (see the top of this file). */
const UNSAFE = /[&*!\t\uFEFF]|<<|^%|^\.\.\.|^---(?:[^ \r\n]|[ ]+[^ #\r\n])|\r(?!\n)|\?(?:[ \r\n,\]}]|$)|[\]}][ \r\n]*:|[^ \r\n]#|#[^ \r\n]|(?<![ ])[ ]{50,}:|(?:^|[ ])[|>][-+]?[0-9]|^[ ]*(?:-[ ]+)*-[ ]*(?:#.*)?\r?$|^[ ]+\r?$/m;
const NULL_KEYS = new Set(['', '~', 'null', 'Null', 'NULL']);
const MAX_KEY = 100;

/**
 * The values of the documents of a YAML text, one per document (null for an empty one), as the
 * `yaml` library reads them; or undefined where this reader cannot be sure, or the text is not
 * valid: then the `yaml` library must read it.
 */
export function loadYamlFast(text: string): unknown[] | undefined {
  if (UNSAFE.test(text) || !indentsSafe(text)) return undefined;
  let docs: unknown[];
  try {
    docs = loadAll(text, null, { schema: SCHEMA });
  } catch {
    return undefined;
  }
  if (docs.length !== documentCount(text)) return undefined;
  for (const doc of docs) if (!keysSafe(doc)) return undefined;
  return docs;
}

/** How many documents the `yaml` library makes of a text: one per `---` line, and one for content before the first. */
export function documentCount(text: string): number {
  const marker = /^---(?=[ \r\n]|$)/gm;
  let count = 0;
  let first = -1;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (first < 0) first = m.index;
    count++;
  }
  const before = first < 0 ? text : text.slice(0, first);
  // Content is a line that is neither blank nor a comment.
  if (/^[ ]*[^ #\r\n]/m.test(before)) count++;
  return count;
}

/**
 * Whether every flow collection or quoted scalar that goes on past its line has all its further
 * lines indented more than where the block entry it starts in begins (the `yaml` library refuses
 * less-indented lines: "must be sufficiently indented", "Missing closing quote"; js-yaml reads
 * them). The scan is rough and errs towards false: brackets count wherever they are, outside
 * quoted scalars and comments; a quote starts a quoted scalar at the start of a line, after a
 * blank, or in a flow collection after `[{,:`; block scalar contents are skipped. A quote taken
 * wrongly for a start keeps the scan open, so the next line at the entry's indentation ends it.
 */
export function indentsSafe(text: string): boolean {
  let depth = 0; // open flow collections
  const flows: string[] = []; // their opening brackets
  let prev = ''; // the last character outside quoted scalars, comments and blanks
  let quote = ''; // the open quoted scalar's quote, or ''
  let need = -1; // while a construct is open: the indentation its lines must exceed
  let block = -1; // while in a block scalar: the indentation its lines must exceed
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let indent = start;
    while (text.charCodeAt(indent) === 32) indent++;
    const blank = indent === end || (indent === end - 1 && text[indent] === '\r');
    if (block >= 0) {
      if (blank || indent - start > block) {
        start = end + 1;
        continue;
      }
      block = -1;
    }
    if (need >= 0 && !blank && indent - start <= need) return false;
    // The column where the line's innermost block entry begins: past its indentation and `- `s.
    let entry = indent;
    while (text[entry] === '-' && text[entry + 1] === ' ') {
      entry += 2;
      while (text.charCodeAt(entry) === 32) entry++;
    }
    for (let i = indent; i < end; i++) {
      const c = text[i]!;
      if (quote === '"') {
        if (c === '\\') i++;
        else if (c === '"') quote = '';
        continue;
      }
      if (quote === "'") {
        if (c === "'") {
          if (text[i + 1] === "'") i++;
          else quote = '';
        }
        continue;
      }
      if (c === ' ' || c === '\r') continue;
      if (c === '#' && (i === indent || text[i - 1] === ' ')) break;
      if (c === '[' || c === '{') {
        // A collection as a key of a flow map (`{[a]}`, `{a, {b: 1}}`): stringified otherwise.
        if (flows[depth - 1] === '{' && (prev === '{' || prev === ',')) return false;
        flows[depth++] = c;
      } else if ((c === ']' || c === '}') && depth > 0) depth--;
      else if ((c === '"' || c === "'") && (i === indent || text[i - 1] === ' ' || (depth > 0 && '[{,:'.includes(text[i - 1]!)))) quote = c;
      prev = c;
    }
    const open = depth > 0 || quote !== '';
    if (open && need < 0) need = entry - start;
    if (!open) {
      need = -1;
      // A block scalar header (`|`, `>-`, `|2+` ...) ends the line: its contents are text.
      if (/(?:^|[ ])[|>][-+0-9]*[ ]*(?:#.*)?\r?$/.test(text.slice(indent, end))) block = entry - start;
    }
    start = end + 1;
  }
  return depth === 0 && quote === '';
}

function keysSafe(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (!keysSafe(v)) return false;
    return true;
  }
  for (const k of Object.keys(value)) {
    if (k.length > MAX_KEY || NULL_KEYS.has(k)) return false;
    if (!keysSafe((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}
