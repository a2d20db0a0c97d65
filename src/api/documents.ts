import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document as YamlDocument, type Node } from 'yaml';
import { fieldPathSteps, type PathStep, type Position, type Source } from './diagnostics.js';
import { JsonPositions, parseJsonText } from './json-positions.js';
import { loadYamlFast } from './yaml-fast.js';

/** One parsed document with where it came from. */
export interface Document {
  /** Each document has a Source of its own, which can place its fields (see Source.locate). */
  readonly source: Source;
  readonly value: unknown;
}

/** Input that cannot be read as YAML or JSON at all, with where the parser gave up. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly position: Position,
    message: string,
  ) {
    super(`${file}:${position.line}:${position.column}: ${message}`);
    this.name = 'InputError';
  }
}

// Documents far larger than any policy are refused before they are parsed: a
// CNP is bounded by the API's list limits to well under a megabyte.
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** Whether a value looks like a Kubernetes object at all: a mapping with a string apiVersion and kind. */
export function isKubernetesObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string';
}

/**
 * Splits YAML (multi-document) or JSON text into documents, each able to place its fields in the
 * text. A top-level list (a JSON array) and `kind: List` / `*List` objects are flattened into
 * their items. JSON is read with JSON.parse and its positions found when asked for (see
 * json-positions.ts), to the same values and positions as the YAML parser gives; anything else,
 * and JSON that the YAML parser would read otherwise (a key twice), goes to the YAML parser.
 * YAML is read with js-yaml where that gives the YAML parser's values (see yaml-fast.ts), its
 * positions found by the YAML parser when first asked for; anything else goes to the YAML parser.
 */
export function parseDocuments(text: string, file: string): Document[] {
  if (text.length > MAX_INPUT_BYTES) {
    throw new InputError(file, { line: 1, column: 1 }, `input is ${text.length} bytes; at most ${MAX_INPUT_BYTES} are read`);
  }
  return parseJson(text, file) ?? parseYamlFast(text, file) ?? parseYaml(text, file);
}

function parseYamlFast(text: string, file: string): Document[] | undefined {
  const values = loadYamlFast(text);
  if (values === undefined) return undefined;
  // The YAML parser's documents, for positions: parsed once, when a position is first asked for.
  let positions: YamlPositions | undefined;
  const docs: Document[] = [];
  values.forEach((value, i) => {
    for (const { value: v, prefix } of flatten(value, [])) {
      if (v === null || v === undefined) continue;
      const locate = (field: string): Position => {
        positions ??= yamlPositions(text);
        return positions.at(offsetOf(positions.docs[i]!, prefix, fieldPathSteps(field) ?? []));
      };
      docs.push({ source: { file, document: i + 1, locate }, value: v });
    }
  });
  return docs;
}

interface YamlPositions {
  readonly docs: readonly YamlDocument[];
  /** The line and column of a text offset. */
  readonly at: (offset: number) => Position;
}

function yamlPositions(text: string): YamlPositions {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { uniqueKeys: true, lineCounter });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return { docs, at };
}

function parseJson(text: string, file: string): Document[] | undefined {
  const json = parseJsonText(text);
  if (json === undefined) return undefined;
  const positions = new JsonPositions(text);
  const docs: Document[] = [];
  for (const { value, prefix } of flatten(json.value, [])) {
    if (value === null || value === undefined) continue;
    const locate = (field: string): Position => positions.locate([...prefix, ...(fieldPathSteps(field) ?? [])]);
    docs.push({ source: { file, document: 1, locate }, value });
  }
  return docs;
}

/** parseDocuments with the YAML parser alone, for JSON too: what the JSON path must agree with (see its tests). */
export function parseYaml(text: string, file: string): Document[] {
  const { docs: yamlDocs, at } = yamlPositions(text);
  const docs: Document[] = [];
  yamlDocs.forEach((doc, i) => {
    const error = doc.errors[0];
    if (error !== undefined) {
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new InputError(file, at(error.pos[0]), `not valid YAML: ${message}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // The yaml library refuses alias expansion past maxAliasCount ("billion laughs").
      throw new InputError(file, at(doc.contents?.range?.[0] ?? 0), `not usable YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const locate = (prefix: readonly PathStep[]) => (field: string) => at(offsetOf(doc, prefix, fieldPathSteps(field) ?? []));
    for (const item of flatten(value, [])) {
      if (item.value === null || item.value === undefined) continue; // an empty document (e.g. a trailing ---)
      docs.push({ source: { file, document: i + 1, locate: locate(item.prefix) }, value: item.value });
    }
  });
  return docs;
}

interface Item {
  readonly value: unknown;
  /** The path of the item in its YAML document. */
  readonly prefix: readonly PathStep[];
}

function flatten(value: unknown, prefix: readonly PathStep[]): Item[] {
  if (Array.isArray(value) && prefix.length === 0) return value.flatMap((v, j) => flatten(v, [j]));
  const items = listItems(value);
  if (items === undefined) return [{ value, prefix }];
  return items.map((v, j) => ({ value: v, prefix: [...prefix, 'items', j] }));
}

function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const kind = (value as Record<string, unknown>)['kind'];
  const items = (value as Record<string, unknown>)['items'];
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items)) return items;
  return undefined;
}

/**
 * The text offset of a path in a document: of the key for a mapping entry, of the item for a
 * list entry. Where the path leaves the document (a required field that is missing), the
 * deepest part that exists: the parent a missing field belongs in.
 */
function offsetOf(doc: YamlDocument, prefix: readonly PathStep[], steps: readonly PathStep[]): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const step of [...prefix, ...steps]) {
    if (isAlias(node)) node = node.resolve(doc);
    const next = child(node, step);
    if (next === undefined) break;
    ({ node, offset } = next);
  }
  return offset;
}

function child(node: unknown, step: PathStep): { node: unknown; offset: number } | undefined {
  if (typeof step === 'number' && isSeq(node)) {
    const item = node.items[step] as Node | undefined;
    return item?.range ? { node: item, offset: item.range[0] } : undefined;
  }
  if (typeof step === 'string' && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === step);
    const key = pair?.key as Node | undefined;
    if (pair === undefined || !key?.range) return undefined;
    return { node: pair.value, offset: key.range[0] };
  }
  return undefined;
}
