import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export interface FlagSpec {
  /** Flags that take a value (`--name value`, `--name=value`); repeated ones collect into a list. */
  readonly values?: readonly string[];
  /** Boolean flags, kubectl style: `--name` is true, `--name=true|false`; they never take the next argument. */
  readonly switches?: readonly string[];
  /** Boolean flags whose value is also kept as text ('true'|'false') in `values`, for settings passed on as text. */
  readonly booleans?: readonly string[];
  /** Short aliases, e.g. { f: 'filename', o: 'output' }. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Said after a stray argument, e.g. "inputs go after -f". */
  readonly positionalHint?: string;
}

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Boolean flags that are true. */
  readonly switches: ReadonlySet<string>;
  /** Every boolean flag that was given, with its value. */
  readonly booleans: ReadonlyMap<string, boolean>;
  /** How each flag was given (`-f`, `--filename`, `CNP_OPERATOR_WORKERS`), so messages name it as the user wrote it. */
  readonly given: ReadonlyMap<string, string>;
}

/** A negative number is a value (`--metrics-port -1`), not a flag. */
const NEGATIVE_NUMBER = /^-[0-9]+$/;

function parseBoolean(value: string, typed: string): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new CliError(`${typed} is true or false, got "${value}"`, EXIT.usage);
}

/**
 * Parses `--name value`, `--name=value`, `-f value`, `-f=value` and boolean flags. Unknown flags,
 * a missing value, a boolean given anything but true or false, and stray arguments are usage
 * errors that name the flag as typed.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  const booleans = new Map<string, boolean>();
  const given = new Map<string, string>();
  const valueNames = new Set(spec.values ?? []);
  const textBooleans = new Set(spec.booleans ?? []);
  const booleanNames = new Set([...(spec.switches ?? []), ...textBooleans]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-' || !arg.startsWith('-') || NEGATIVE_NUMBER.test(arg) || arg === '--') {
      const hint = spec.positionalHint === undefined ? '' : `: ${spec.positionalHint}`;
      throw new CliError(`unexpected argument "${arg}"${hint}`, EXIT.usage);
    }
    const eq = arg.indexOf('=');
    const typed = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const bare = typed.replace(/^--?/, '');
    const name = arg.startsWith('--') ? bare : (spec.aliases?.[bare] ?? `\u0000${bare}`);
    given.set(name, typed);
    if (booleanNames.has(name)) {
      const value = parseBoolean(inline ?? 'true', `flag ${typed}`);
      booleans.set(name, value);
      if (textBooleans.has(name)) values.set(name, [...(values.get(name) ?? []), String(value)]);
    } else if (valueNames.has(name)) {
      const next = argv[i + 1];
      const value = inline ?? (next !== undefined && (next === '-' || !next.startsWith('-') || NEGATIVE_NUMBER.test(next)) ? (i++, next) : undefined);
      if (value === undefined) throw new CliError(`flag ${typed} needs a value${next === undefined ? '' : ` (got the flag ${next}; write ${typed}=${next} if that is the value)`}`, EXIT.usage);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else {
      throw new CliError(`unknown flag ${typed}`, EXIT.usage);
    }
  }
  const switches = new Set([...booleans].filter(([, v]) => v).map(([k]) => k));
  return { values, switches, booleans, given };
}

/**
 * Adds flags from the environment (`CNP_OPERATOR_WORKERS=3` for --workers) where the command
 * line does not give them; they follow the same rules (a boolean is true or false). An empty
 * variable counts as unset. Other variables with the prefix are left alone: tools use some.
 */
export function withEnvironment(flags: ParsedFlags, spec: FlagSpec, env: NodeJS.ProcessEnv, prefix = 'CNP_OPERATOR_'): ParsedFlags {
  const values = new Map(flags.values);
  const booleans = new Map(flags.booleans);
  const given = new Map(flags.given);
  const variable = (name: string) => `${prefix}${name.toUpperCase().replace(/-/g, '_')}`;
  for (const name of [...(spec.values ?? []), ...(spec.switches ?? []), ...(spec.booleans ?? [])]) {
    const text = env[variable(name)];
    if (name === 'help' || given.has(name) || text === undefined || text === '') continue;
    given.set(name, variable(name));
    if ((spec.values ?? []).includes(name)) values.set(name, [text]);
    else booleans.set(name, parseBoolean(text, variable(name)));
    if ((spec.booleans ?? []).includes(name)) values.set(name, [text]);
  }
  const switches = new Set([...booleans].filter(([, v]) => v).map(([k]) => k));
  return { values, switches, booleans, given };
}

/** The flag as the user gave it (`-o`, `--output`, `CNP_OPERATOR_OUTPUT`), for messages. */
export function flagName(flags: ParsedFlags, name: string): string {
  return flags.given.get(name) ?? `--${name}`;
}

export function single(flags: ParsedFlags, name: string): string | undefined {
  const list = flags.values.get(name);
  if (list === undefined) return undefined;
  if (list.length > 1) throw new CliError(`flag ${flagName(flags, name)} given more than once`, EXIT.usage);
  return list[0];
}

/** A boolean flag's value, or `fallback` when it is not given. */
export function bool(flags: ParsedFlags, name: string, fallback: boolean): boolean {
  return flags.booleans.get(name) ?? fallback;
}

export function oneOf<T extends string>(flags: ParsedFlags, name: string, allowed: readonly T[], fallback: T): T {
  const value = single(flags, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`flag ${flagName(flags, name)} must be one of ${allowed.join(', ')} (got "${value}")`, EXIT.usage);
  }
  return value as T;
}
