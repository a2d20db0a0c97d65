import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, MAX_INPUT_BYTES, parseDocuments, type Document } from '../api/documents.js';
import { CliError } from './errors.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read standard input: ${(err as Error).message}`);
  }
}

function expand(path: string): string[] {
  if (path === '-') return ['-'];
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`);
  }
  if (!stat.isDirectory()) return [path];
  // Directories are read recursively, in a stable order, as kubectl -R would.
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return expand(full);
      return EXTENSIONS.some((e) => entry.name.endsWith(e)) ? [full] : [];
    });
}

/** Reads `-f` arguments (files, directories, `-`) into documents. */
export function readInputs(paths: readonly string[]): Document[] {
  if (paths.length === 0) throw new CliError('no input: give -f FILE, -f DIRECTORY or -f - (standard input)', 2);
  const docs: Document[] = [];
  for (const file of paths.flatMap(expand)) {
    if (file !== '-') {
      const size = statSync(file).size;
      if (size > MAX_INPUT_BYTES) throw new CliError(`${file}: ${size} bytes is too large (at most ${MAX_INPUT_BYTES})`);
    }
    let text: string;
    try {
      text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      docs.push(...parseDocuments(text, file));
    } catch (err) {
      if (err instanceof InputError) throw new CliError(err.message);
      throw err;
    }
  }
  return docs;
}
