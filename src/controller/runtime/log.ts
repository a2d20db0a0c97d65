export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger: one JSON object per line, with `ts`, `level`, `msg` and the fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{logger: 'informer', resource: 'nodes'}`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; stderr by default, so stdout stays free for command output. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
  readonly fields?: LogFields;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const make = (base: LogFields): Logger => {
    const log =
      (level: LogLevel) =>
      (msg: string, fields: LogFields = {}): void => {
        if (RANK[level] < min) return;
        // Reserved keys come last so a field cannot disguise a line's level or time.
        const entry = { ...base, ...serialise(fields), ts: now().toISOString(), level, msg };
        write(`${safeStringify(entry)}\n`);
      };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...base, ...serialise(fields) }),
    };
  };
  return make(options.fields ?? {});
}

/** A logger that drops everything; the default where a component gets none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Errors lose their message and stack in JSON.stringify; spell them out. */
function serialise(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? errorFields(v) : v;
  return out;
}

function errorFields(err: Error): Record<string, unknown> {
  const extra = err as Error & { status?: unknown; reason?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(extra.status === undefined ? {} : { status: extra.status }),
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    ...(err.stack === undefined ? {} : { stack: err.stack }),
  };
}

function safeStringify(entry: unknown): string {
  try {
    return JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'unserialisable log entry' });
  }
}
