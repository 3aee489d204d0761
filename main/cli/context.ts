import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../store/index';

/** What every command gets besides its own arguments. */
export interface CliContext {
  /** The database file (from --db, RW_DB, or the default in the user's data directory). */
  dbPath: string;
  /** True when dbPath is the default (not chosen with --db or RW_DB). */
  dbIsDefault: boolean;
  /** --json: print machine-readable JSON instead of human text. */
  json: boolean;
  /** Writes one line (a newline is added) to stdout. */
  out(line: string): void;
  /** Writes one line to stderr (progress or notes; errors are thrown instead). */
  err(line: string): void;
  /** Opens the store at dbPath (creating the directory only for the default database); the caller closes it. */
  openStore(): Store;
  /** Names of all available commands (the files in main/cli/commands/). */
  commandNames(): Promise<string[]>;
}

/** The shape of a command module in main/cli/commands/<name>.ts. */
export interface CommandModule {
  /** One line for `help`. */
  summary: string;
  /** Optional usage line shown by `help <command>` and in usage errors. */
  usage?: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** A mistake in how the command was called (exit code 2). */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/**
 * Opens the database file. Only the default data directory is created when missing: a database named with
 * --db or RW_DB must go in an existing directory, so a mistyped path is refused instead of quietly becoming
 * a new, empty database somewhere else.
 */
export function openStoreAt(dbPath: string, o: { createDir?: boolean; source?: string } = {}): Store {
  const dir = path.dirname(path.resolve(dbPath));
  if (o.createDir) mkdirSync(dir, { recursive: true });
  else if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CliUsageError(`${o.source ?? '--db'} ${dbPath}: the directory ${dir} does not exist (create it first; only the default data directory is created automatically)`);
  }
  return openStore(dbPath);
}

/** Opens the store, runs fn, and closes the store even when fn throws. */
export async function withStore<T>(ctx: CliContext, fn: (store: Store) => T | Promise<T>): Promise<T> {
  const store = ctx.openStore();
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

export type FlagSpec = Record<string, 'string' | 'boolean' | 'integer'>;
export interface ParsedFlags {
  positional: string[];
  flags: Record<string, string | boolean | number | undefined>;
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name` flags against a spec; anything else
 * starting with "--" is refused, so a typo is reported instead of silently ignored.
 * A lone "--" ends the flags.
 */
export function parseFlags(args: string[], spec: FlagSpec): ParsedFlags {
  const positional: string[] = [];
  const flags: ParsedFlags['flags'] = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const kind = spec[name];
    if (!kind) {
      const known = Object.keys(spec).map((k) => `--${k}`).join(', ');
      throw new CliUsageError(`unknown option --${name}${known ? ` (expected ${known})` : ''}`);
    }
    if (kind === 'boolean') {
      if (eq >= 0) throw new CliUsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new CliUsageError(`option --${name} needs a value`);
    if (kind === 'integer') {
      if (!/^\d+$/.test(value)) throw new CliUsageError(`option --${name} must be a whole number, got "${value}"`);
      flags[name] = Number(value);
    } else flags[name] = value;
  }
  return { positional, flags };
}
