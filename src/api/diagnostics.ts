/**
 * What validation says about one field.
 * - `error`: the object breaks the API's schema or a documented rule; it is not used.
 * - `unsupported`: a part we do not understand (e.g. a peer type from a newer API); the rule
 *   holding it is replaced by its fail-closed form, and the object is still used.
 * - `warning`: the object is used as normalised (e.g. a CIDR with host bits set).
 */
export type Severity = 'error' | 'unsupported' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** Field path in the object, e.g. `spec.egress[2].to[0].networks[1]` or `metadata.labels["a.b/c"]`. */
  readonly field: string;
  readonly message: string;
}

/** A place in a text: 1-based line and column, as editors and compilers count them. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Where a document came from. */
export interface Source {
  /** A file name, `-` for standard input, or where a live object was read from. */
  readonly file: string;
  /** The document's 1-based position in the file (or in the list it was read from). */
  readonly document: number;
  /**
   * Where a field path of this document is in the text; a path that does not exist resolves to
   * its nearest existing parent, and '' to the document's start. Absent for objects that were
   * not read from text (e.g. from a cluster's API).
   */
  readonly locate?: (field: string) => Position;
}

/** `file:line:column` of a field (of the document's start when `field` is omitted); `file` alone when unknown. */
export function formatSource(source: Source, field = ''): string {
  const at = source.locate?.(field);
  return at === undefined ? source.file : `${source.file}:${at.line}:${at.column}`;
}

/** `file:line:column: [severity: ]field.path: message`, as compilers print it (errors carry no severity word). */
export function formatDiagnostic(source: Source | undefined, d: Diagnostic): string {
  const where = source === undefined ? '' : `${formatSource(source, d.field)}: `;
  const level = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${where}${level}${d.field}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

// Field names that need no quoting in a path; anything else (label keys such as
// `app.kubernetes.io/name`, keys with spaces) is written as a JSON string in brackets, so
// every path reads back to exactly one field (see fieldPathSteps).
const PLAIN_FIELD = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** One step of a field path: a mapping key or a list index. */
export type PathStep = string | number;

/**
 * The steps of a field path as Checker writes it (`a.b[2]["c.d/e"]`); '' and `(document)` are
 * the document itself. Undefined for text that is not such a path.
 */
export function fieldPathSteps(path: string): PathStep[] | undefined {
  if (path === '' || path === '(document)') return [];
  const steps: PathStep[] = [];
  let rest = path;
  while (rest !== '') {
    const step = /^\.?([^.[\]"]+)/.exec(rest) ?? /^\[(\d+)\]/.exec(rest) ?? /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
    if (step === null) return undefined;
    const text = step[1]!;
    steps.push(step[0].startsWith('[') ? (text.startsWith('"') ? (JSON.parse(text) as string) : Number(text)) : text);
    rest = rest.slice(step[0].length);
  }
  return steps;
}

/**
 * Collects diagnostics under a field path; children extend the path. The path text is made
 * only when asked for (a diagnostic, mostly): a valid policy walks hundreds of fields and
 * reports none.
 */
export class Checker {
  readonly #sink: Diagnostic[];
  #path: string | undefined;
  readonly #parent: Checker | undefined;
  readonly #step: string | number | undefined;

  constructor(sink: Diagnostic[], path: string);
  constructor(sink: Diagnostic[], path: undefined, parent: Checker, step: string | number);
  constructor(sink: Diagnostic[], path: string | undefined, parent?: Checker, step?: string | number) {
    this.#sink = sink;
    this.#path = path;
    this.#parent = parent;
    this.#step = step;
  }

  get path(): string {
    if (this.#path === undefined) {
      const base = this.#parent!.path;
      const step = this.#step!;
      if (typeof step === 'number') this.#path = `${base}[${step}]`;
      else if (!PLAIN_FIELD.test(step)) this.#path = `${base}[${JSON.stringify(step)}]`;
      else this.#path = base === '' ? step : `${base}.${step}`;
    }
    return this.#path;
  }

  field(name: string): Checker {
    return new Checker(this.#sink, undefined, this, name);
  }

  index(i: number): Checker {
    return new Checker(this.#sink, undefined, this, i);
  }

  error(message: string): void {
    this.#sink.push({ severity: 'error', field: this.path, message });
  }

  unsupported(message: string): void {
    this.#sink.push({ severity: 'unsupported', field: this.path, message });
  }

  warning(message: string): void {
    this.#sink.push({ severity: 'warning', field: this.path, message });
  }
}
