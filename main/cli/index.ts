import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError, openStoreAt, type CliContext } from './context';
import { defaultDbPath } from './paths';
import { listCommandNames, loadCommand } from './registry';

/**
 * The workbench CLI: `npm run --silent cli -- [--db FILE] [--json] <command> [args]`.
 *
 * Commands live in main/cli/commands/<name>.ts and are loaded by dynamic import, so a command is
 * added by adding a file (exporting `summary` and `run(args, ctx)`), without touching this one.
 * Any error ends the process with a non-zero exit code and ONE line `error: <reason>` on stderr
 * (the stack too when RW_DEBUG=1); under --json that line is JSON instead, still on stderr (stdout carries
 * only results): `{"error":{"code":"usage"|"failed","message":"<reason>"}}`.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */

/** Splits off the global flags (--db FILE, --db=FILE, --json), which may appear anywhere before "--". */
export function parseGlobal(argv: string[]): { db?: string; json: boolean; rest: string[] } {
  let db: string | undefined;
  let json = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--json') json = true;
    else if (a === '--db') {
      db = argv[++i];
      if (db === undefined || db === '') throw new CliUsageError('option --db needs a file name');
    } else if (a.startsWith('--db=')) {
      db = a.slice(5);
      if (db === '') throw new CliUsageError('option --db needs a file name');
    } else rest.push(a);
  }
  return { db, json, rest };
}

/** Where main() writes (process streams by default; tests pass their own). */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  // known before parsing, so that even a malformed global flag is reported as JSON under --json
  const wantsJson = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  try {
    const { db, json, rest } = parseGlobal(argv);
    const dbPath = db ?? defaultDbPath();
    const dbIsDefault = db === undefined && !process.env.RW_DB;
    const ctx: CliContext = {
      dbPath,
      dbIsDefault,
      json,
      out: (line) => void io.stdout.write(`${line}\n`),
      err: (line) => void io.stderr.write(`${line}\n`),
      openStore: () => openStoreAt(dbPath, { createDir: dbIsDefault, source: db !== undefined ? '--db' : 'RW_DB' }),
      commandNames: async () => listCommandNames(),
    };
    const [name = 'help', ...args] = rest;
    const command = await loadCommand(name);
    return await command.run(args, ctx);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const line = err.message.replace(/\s*\n\s*/g, ' ').trim() || err.name;
    const usage = e instanceof CliUsageError;
    if (wantsJson) io.stderr.write(`${JSON.stringify({ error: { code: usage ? 'usage' : 'failed', message: line } })}\n`);
    else io.stderr.write(`error: ${line}\n`);
    if (process.env.RW_DEBUG === '1' && err.stack) io.stderr.write(`${err.stack}\n`);
    return usage ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
