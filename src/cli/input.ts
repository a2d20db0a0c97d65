import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, isKubernetesObject, MAX_INPUT_BYTES, parseDocuments, type Document } from '../api/documents.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** How `-f` arguments are read. */
export interface InputOptions {
  /** Read directories' subdirectories too (`-R`, as kubectl); otherwise only a directory's own files. */
  readonly recursive?: boolean;
}

/** The help lines for `-f` and `-R`, the same in every command that reads files. */
export const INPUT_HELP = `  -f, --filename FILE|DIR|-   input: a file, a directory's .yaml, .yml and .json files, or - (standard
                              input); YAML or JSON, several documents each, Lists included; repeatable
  -R, --recursive             read the directories given with -f recursively (as kubectl -R)`;

/** What -f does with the files it finds in a directory (said after the flags). */
export const INPUT_NOTE = `
A file found in a directory that holds no Kubernetes object at all (no document with apiVersion
and kind, e.g. a --flows file) is skipped with a note; one that is not YAML or JSON is an error,
and a file named with -f is always read.`;

interface Found {
  readonly path: string;
  /** Found by reading a directory, not named on the command line. */
  readonly listed: boolean;
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read standard input: ${(err as Error).message}`, EXIT.noInput);
  }
}

function expand(path: string, recursive: boolean, listed = false): Found[] {
  if (path === '-') return [{ path, listed }];
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${path}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? (err as Error).message}`}`, EXIT.noInput);
  }
  if (!stat.isDirectory()) return [{ path, listed }];
  // A stable order, so output and messages do not depend on the file system.
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return recursive ? expand(full, recursive, true) : [];
      return EXTENSIONS.some((e) => entry.name.endsWith(e)) ? [{ path: full, listed: true }] : [];
    });
}

function readText(file: string): string {
  if (file === '-') return readStdin();
  const size = statSync(file).size;
  if (size > MAX_INPUT_BYTES) throw new CliError(`${file}: ${size} bytes is too large (at most ${MAX_INPUT_BYTES})`, EXIT.invalid);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.noInput);
  }
}

/**
 * Reads `-f` arguments (files, directories, `-`) into documents. A file found in a directory
 * whose documents are none of them Kubernetes objects is skipped with a note on standard error:
 * directories hold other files too (the README's flows.json), and kubectl's habit of reading a
 * whole directory should not make them errors.
 */
export function readInputs(paths: readonly string[], options: InputOptions = {}): Document[] {
  if (paths.length === 0) throw new CliError('no input: give -f FILE, -f DIRECTORY or -f - (standard input)', EXIT.usage);
  const docs: Document[] = [];
  for (const { path, listed } of paths.flatMap((p) => expand(p, options.recursive ?? false))) {
    let parsed: Document[];
    try {
      parsed = parseDocuments(readText(path), path);
    } catch (err) {
      if (err instanceof InputError) throw new CliError(err.message, EXIT.invalid);
      throw err;
    }
    if (listed && parsed.length > 0 && !parsed.some((d) => isKubernetesObject(d.value))) {
      process.stderr.write(`note: ${path}: skipped: holds no Kubernetes object (no document has apiVersion and kind)\n`);
      continue;
    }
    docs.push(...parsed);
  }
  return docs;
}
