import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, type ApiErrorData } from './errors';
import type { JobArgs, JobName, JobResult } from './jobs';

/**
 * Client of the engine child process (engine-host.ts). One process, started on first use and
 * restarted if it dies; calls are matched to replies by id. A crash fails the calls in flight
 * with a clear message instead of hanging them.
 */
export interface EngineOptions {
  /** Path of the host entry; default: engine-host.js next to this module (built), else the .ts source via tsx. */
  hostEntry?: string;
  onEvent?: (event: unknown) => void;
  /**
   * Starts the host process; default child_process.fork. The packaged Electron app cannot fork
   * itself as Node (its RunAsNode fuse is off), so its shell passes an Electron utilityProcess
   * dressed as a ChildProcess (send, 'message', 'exit', kill, pid, connected).
   */
  fork?: (entry: string, args: string[], options: ForkOptions) => ChildProcess;
}

export class Engine {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; job: string }>();
  private closed = false;

  constructor(private readonly options: EngineOptions = {}) {}

  call<J extends JobName>(job: J, args: JobArgs<J>): Promise<JobResult<J>> {
    if (this.closed) return Promise.reject(new ApiError('unavailable', 'the engine has been shut down'));
    const child = this.ensure();
    const id = this.nextId++;
    return new Promise<JobResult<J>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, job });
      child.send({ id, job, args });
    });
  }

  /** The engine process id (tests use it to show the work ran outside this process). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  close(): void {
    this.closed = true;
    this.child?.kill();
    this.child = null;
  }

  private ensure(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const { entry, execArgv } = resolveHost(this.options.hostEntry);
    const child = (this.options.fork ?? fork)(entry, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('message', (raw) => {
      const m = raw as { id?: number; ok?: boolean; value?: unknown; error?: ApiErrorData; event?: unknown };
      if (m.event !== undefined) {
        this.options.onEvent?.(m.event);
        return;
      }
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new ApiError(m.error?.code ?? 'failed', m.error?.message ?? 'engine error', m.error?.fields));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      for (const [id, p] of this.pending) {
        p.reject(new ApiError('failed', `the engine process stopped (${signal ?? `exit code ${code}`}) while running "${p.job}"`));
        this.pending.delete(id);
      }
    });
    this.child = child;
    return child;
  }
}

function resolveHost(explicit?: string): { entry: string; execArgv: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = explicit ?? join(here, 'engine-host.js');
  if (existsSync(built) && built.endsWith('.js')) return { entry: built, execArgv: [] };
  const source = explicit ?? join(here, 'engine-host.ts');
  // Source checkout (tests, `npm run web` through tsx): run the TypeScript entry through tsx's loader.
  return { entry: source, execArgv: ['--import', 'tsx'] };
}
