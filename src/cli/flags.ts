import { CliError } from './errors.js';

export interface FlagSpec {
  /** Flags that take a value; repeated ones collect into a list. */
  readonly values?: readonly string[];
  /** Flags that are switches. */
  readonly switches?: readonly string[];
  /** Boolean flags, kubectl style: `--name` (true) or `--name=true|false`; the value lands in `values`. */
  readonly booleans?: readonly string[];
  /** Short aliases, e.g. { f: 'file', o: 'output' }. */
  readonly aliases?: Readonly<Record<string, string>>;
}

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly switches: ReadonlySet<string>;
  readonly positional: readonly string[];
}

/** Parses `--name value`, `--name=value`, `-f value` and switches; unknown flags are errors. */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  const positional: string[] = [];
  const valueNames = new Set(spec.values ?? []);
  const switchNames = new Set(spec.switches ?? []);
  const booleanNames = new Set(spec.booleans ?? []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let name = arg.replace(/^--?/, '');
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!arg.startsWith('--')) name = spec.aliases?.[name] ?? name;
    if (booleanNames.has(name)) {
      const value = inline ?? 'true';
      if (value !== 'true' && value !== 'false') throw new CliError(`flag --${name} is true or false, got "${value}"`, 2);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (switchNames.has(name)) {
      if (inline !== undefined) throw new CliError(`flag --${name} takes no value`, 2);
      switches.add(name);
    } else if (valueNames.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new CliError(`flag --${name} needs a value`, 2);
      const list = values.get(name) ?? [];
      list.push(value);
      values.set(name, list);
    } else {
      throw new CliError(`unknown flag ${arg}`, 2);
    }
  }
  return { values, switches, positional };
}

export function single(flags: ParsedFlags, name: string): string | undefined {
  const list = flags.values.get(name);
  if (list === undefined) return undefined;
  if (list.length > 1) throw new CliError(`flag --${name} given more than once`, 2);
  return list[0];
}

export function oneOf<T extends string>(flags: ParsedFlags, name: string, allowed: readonly T[], fallback: T): T {
  const value = single(flags, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`flag --${name} must be one of ${allowed.join(', ')} (got "${value}")`, 2);
  }
  return value as T;
}
