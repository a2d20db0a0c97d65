import { formatDiagnostic, type Position, type Source } from '../api/diagnostics.js';
import type { SourcedDiagnostic } from '../api/snapshot.js';
import type { ObjectReport } from '../semantics/validation-report.js';

/** Prints diagnostics on standard error, one a line: `file:line:column: field: message (Kind/name)`. */
export function printDiagnostics(list: readonly SourcedDiagnostic[]): void {
  for (const d of list) process.stderr.write(`${formatDiagnostic(d.source, d)}${d.object === undefined ? '' : ` (${d.object})`}\n`);
}

/** One note per skipped kind, so a directory of manifests does not print a line per Deployment. */
export function printSkipped(objects: readonly ObjectReport[]): void {
  const byKind = new Map<string, { count: number; reason: string }>();
  for (const o of objects) {
    if (o.skipped === undefined) continue;
    const kind = o.kind ?? '?';
    byKind.set(kind, { count: (byKind.get(kind)?.count ?? 0) + 1, reason: o.skipped });
  }
  for (const [kind, { count, reason }] of byKind) {
    process.stderr.write(`note: skipped ${count} object${count === 1 ? '' : 's'} of kind ${kind}: ${reason}\n`);
  }
}

/** A position for JSON output: line and column when the source can place the field. */
export function jsonPosition(source: Source, field: string): Partial<Position> {
  const at = source.locate?.(field);
  return at === undefined ? {} : { line: at.line, column: at.column };
}
