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
  /** Field path in the object, e.g. `spec.egress[2].to[0].networks[1]`. */
  readonly field: string;
  readonly message: string;
}

/** Where a document came from: a file (or `-` for stdin) and its 1-based position in it. */
export interface Source {
  readonly file: string;
  readonly document: number;
}

export function formatSource(source: Source): string {
  return `${source.file}:${source.document}`;
}

export function formatDiagnostic(source: Source | undefined, d: Diagnostic): string {
  const where = source === undefined ? '' : `${formatSource(source)}: `;
  const level = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${where}${level}${d.field}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Collects diagnostics under a field path; children extend the path. */
export class Checker {
  constructor(
    private readonly sink: Diagnostic[],
    readonly path: string,
  ) {}

  field(name: string): Checker {
    return new Checker(this.sink, this.path === '' ? name : `${this.path}.${name}`);
  }

  index(i: number): Checker {
    return new Checker(this.sink, `${this.path}[${i}]`);
  }

  error(message: string): void {
    this.sink.push({ severity: 'error', field: this.path, message });
  }

  unsupported(message: string): void {
    this.sink.push({ severity: 'unsupported', field: this.path, message });
  }

  warning(message: string): void {
    this.sink.push({ severity: 'warning', field: this.path, message });
  }
}
