import { parseAllDocuments } from 'yaml';
import type { Source } from './diagnostics.js';

/** One parsed document with where it came from. */
export interface Document {
  readonly source: Source;
  readonly value: unknown;
}

/** Input that cannot be read as YAML or JSON at all. */
export class InputError extends Error {
  constructor(
    readonly source: Source,
    message: string,
  ) {
    super(`${source.file}:${source.document}: ${message}`);
    this.name = 'InputError';
  }
}

// Documents far larger than any policy are refused before they are parsed: a
// CNP is bounded by the API's list limits to well under a megabyte.
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * Splits YAML (multi-document) or JSON text into documents. `kind: List` and
 * `*List` objects are flattened into their items, which keep the List's position.
 */
export function parseDocuments(text: string, file: string): Document[] {
  if (text.length > MAX_INPUT_BYTES) {
    throw new InputError({ file, document: 1 }, `input is ${text.length} bytes; at most ${MAX_INPUT_BYTES} are read`);
  }
  const trimmed = text.trimStart();
  let values: unknown[];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      values = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      values = parseYaml(text, file); // YAML flow style also starts with { or [
    }
  } else {
    values = parseYaml(text, file);
  }
  const docs: Document[] = [];
  values.forEach((value, i) => {
    const source = { file, document: i + 1 };
    if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
    const items = listItems(value);
    if (items === undefined) docs.push({ source, value });
    else for (const item of items) docs.push({ source, value: item });
  });
  return docs;
}

function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const kind = (value as Record<string, unknown>)['kind'];
  const items = (value as Record<string, unknown>)['items'];
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items)) return items;
  return undefined;
}

function parseYaml(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, i) => {
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0];
      const where = line === undefined ? '' : ` (line ${line.line}, column ${line.col})`;
      throw new InputError({ file, document: i + 1 }, `not valid YAML${where}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    try {
      return doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // The yaml library refuses alias expansion past maxAliasCount ("billion laughs").
      throw new InputError({ file, document: i + 1 }, `not usable YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  });
}
