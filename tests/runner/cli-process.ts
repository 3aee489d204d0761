/**
 * The real CLI in its own process, started as `node --import tsx main/cli/index.ts` so the child's pid is the
 * CLI's own (signals go to it, and lease messages name it), with its output collected.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { cliEntry, repo } from './tiny-study';

export interface CliProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited and its output is read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 180_000, everyMs = 50): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Freezes a process (SIGSTOP) at a moment it holds no write transaction on `db` (checked by taking the write
 * lock ourselves, without waiting), so other processes can still write while it is frozen. Resume with SIGCONT.
 */
export async function freezeOutsideWrite(pid: number, db: string): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  for (let i = 0; i < 1000; i++) {
    process.kill(pid, 'SIGSTOP');
    const d = new Database(db);
    d.pragma('busy_timeout = 0');
    try {
      d.exec('BEGIN IMMEDIATE');
      d.exec('ROLLBACK');
      return;
    } catch {
      process.kill(pid, 'SIGCONT'); // frozen inside a write: let it finish and try again
      await new Promise((r) => setTimeout(r, 5 + (i % 7)));
    } finally {
      d.close();
    }
  }
  throw new Error(`could not freeze process ${pid} outside a write`);
}
