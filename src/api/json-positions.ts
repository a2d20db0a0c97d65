import type { PathStep, Position } from './diagnostics.js';

// JSON input is read with JSON.parse, and the place of a field in the text is found only when it
// is asked for (a diagnostic to print, `validate -o json`): the YAML parser, which keeps the
// position of every node, takes seconds and hundreds of MiB for the 7 MiB List of a
// 3,000-namespace cluster (bench/translate-shape.ts), where JSON.parse and the scan for
// duplicate keys take a tenth of a second. The positions are those the YAML parser
// gives for the same text (of a key for a mapping entry, of the item for a list entry), which
// test/unit/api/json-positions.test.ts checks against it.

// Deeper nesting is left to the YAML parser, which refuses it where its stack ends: the fast
// path must not accept what the full one refuses.
const MAX_DEPTH = 256;

const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The offset just past the closing quote of the string that opens at `start` (the text is valid JSON). */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j++;
  }
}

/**
 * The value of JSON text that the YAML parser (with unique keys) would read the same way, or
 * undefined when it is not JSON, or is JSON the YAML parser reads otherwise: a mapping with a
 * key twice (the YAML parser refuses it; JSON.parse keeps the last), nesting deeper than it reads,
 * or a carriage return not followed by a line feed (JSON's whitespace, the YAML parser's text).
 */
export function parseJsonText(text: string): { value: unknown } | undefined {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Every colon outside strings is one key of one mapping; JSON.parse keeps one per key.
  let keys = 0;
  let depth = 0;
  for (const n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i) - 1;
    else if (c === COLON) keys++;
    else if (c === CR && text.charCodeAt(i + 1) !== LF) return undefined;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_DEPTH) return undefined;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return keys === countKeys(value) ? { value } : undefined;
}

function countKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const v of value) n += countKeys(v);
    return n;
  }
  for (const k of Object.keys(value)) n += 1 + countKeys((value as Record<string, unknown>)[k]);
  return n;
}

interface Entry {
  readonly key: number;
  readonly value: number;
}

/**
 * Places field paths in one JSON text. Mappings and lists are read when a path goes through
 * them, once each (a List of 20,000 items is read once, not once per item asked for).
 */
export class JsonPositions {
  private lineStarts: number[] | undefined;
  private readonly maps = new Map<number, Map<string, Entry>>();
  private readonly lists = new Map<number, number[]>();
  private readonly root: number;

  constructor(private readonly text: string) {
    let i = 0;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    this.root = i;
  }

  /** Where a path is: of the key for a mapping entry, of the item for a list entry; a path that leaves the text, its deepest existing part. */
  locate(steps: readonly PathStep[]): Position {
    let node = this.root;
    let offset = this.root;
    for (const step of steps) {
      const c = this.text.charCodeAt(node);
      if (typeof step === 'number' && c === OPEN_BRACKET) {
        const item = this.items(node)[step];
        if (item === undefined) break;
        node = offset = item;
      } else if (typeof step === 'string' && c === OPEN_BRACE) {
        const entry = this.entries(node).get(step);
        if (entry === undefined) break;
        offset = entry.key;
        node = entry.value;
      } else break;
    }
    return this.position(offset);
  }

  /** 1-based line and column of an offset, counted as the YAML parser counts them (lines end at \n). */
  private position(offset: number): Position {
    if (this.lineStarts === undefined) {
      const starts = [0];
      for (let nl = this.text.indexOf('\n'); nl !== -1; nl = this.text.indexOf('\n', nl + 1)) starts.push(nl + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  }

  private skipSpace(i: number): number {
    while (isSpace(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** The offset just past the value that starts at `i`. */
  private valueEnd(i: number): number {
    const text = this.text;
    const c = text.charCodeAt(i);
    if (c === QUOTE) return stringEnd(text, i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let depth = 0;
      for (;; i++) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) i = stringEnd(text, i) - 1;
        else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
        else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return i + 1;
      }
    }
    // A number, true, false or null.
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
      i++;
    }
    return i;
  }

  private items(start: number): number[] {
    let items = this.lists.get(start);
    if (items !== undefined) return items;
    items = [];
    let i = this.skipSpace(start + 1);
    if (this.text.charCodeAt(i) !== CLOSE_BRACKET) {
      for (;;) {
        items.push(i);
        i = this.skipSpace(this.valueEnd(i));
        if (this.text.charCodeAt(i) !== COMMA) break;
        i = this.skipSpace(i + 1);
      }
    }
    this.lists.set(start, items);
    return items;
  }

  private entries(start: number): Map<string, Entry> {
    let entries = this.maps.get(start);
    if (entries !== undefined) return entries;
    entries = new Map();
    const text = this.text;
    let i = this.skipSpace(start + 1);
    if (text.charCodeAt(i) !== CLOSE_BRACE) {
      for (;;) {
        const keyEnd = stringEnd(text, i);
        const raw = text.slice(i + 1, keyEnd - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw;
        const value = this.skipSpace(this.skipSpace(keyEnd) + 1); // past the colon
        if (!entries.has(key)) entries.set(key, { key: i, value });
        i = this.skipSpace(this.valueEnd(value));
        if (text.charCodeAt(i) !== COMMA) break;
        i = this.skipSpace(i + 1);
      }
    }
    this.maps.set(start, entries);
    return entries;
  }
}
