import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failRunsOfLostProcess } from './engine-crash';
import { ApiError, type ApiErrorData } from './errors';
import type { JobArgs, JobName, JobResult } from './jobs';

/**
 * Client of the engine child processes (engine-host.ts); calls are matched to replies by id.
 *
 * Short jobs (imports, inspection, previews, exports, the first-run demo) share one process, started on
 * first use and restarted on the next call if it dies. Every study started with `startStudy` runs in a
 * process of its own, which ends when the study stops: llama.cpp aborts the whole process on some faults
 * (GGML_ASSERT), and a study that crashes its process must not take the other studies with it. When a
 * process dies, the calls in flight fail with a clear message, and the runs it was running are marked
 * failed with the reason (engine-crash.ts), so none is left `running` or `queued`; the other studies keep
 * going in their own processes, and the next short job starts a fresh shared process.
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

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  job: string;
}

/** One engine child process. */
class Host {
  readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the process has exited (code or signal). */
  exited: string | null = null;

  constructor(
    entry: { entry: string; execArgv: string[] },
    private readonly onEvent: (event: unknown) => void,
    onExit: (host: Host, how: string) => void,
    start: NonNullable<EngineOptions['fork']> = fork,
  ) {
    this.child = start(entry.entry, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child.on('message', (raw) => {
      const m = raw as { id?: number; ok?: boolean; value?: unknown; error?: ApiErrorData; event?: unknown };
      if (m.event !== undefined) {
        this.onEvent(m.event);
        return;
      }
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new ApiError(m.error?.code ?? 'failed', m.error?.message ?? 'engine error', m.error?.fields));
    });
    this.child.on('exit', (code, signal) => {
      const how = signal ?? `exit code ${code}`;
      this.exited = how;
      for (const [id, p] of this.pending) {
        p.reject(new ApiError('failed', `the engine process stopped (${how}) while running "${p.job}"`));
        this.pending.delete(id);
      }
      onExit(this, how);
    });
  }

  /** Calls waiting for their reply. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  get alive(): boolean {
    return this.exited === null && this.child.connected;
  }

  call(job: string, args: unknown): Promise<unknown> {
    if (!this.alive) return Promise.reject(new ApiError('failed', `the engine process stopped (${this.exited ?? 'disconnected'}) before "${job}"`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, job });
      this.child.send({ id, job, args });
    });
  }
}

/** A study's own process and what the engine knows about it. */
interface StudyHost {
  host: Host;
  dbFile: string;
  /** The host said the study stopped (done, failed, paused or stopped): its exit is expected. */
  finished: boolean;
  /** Ends the process once the study stopped and no call waits for an answer. */
  release: () => void;
}

export class Engine {
  private shared: Host | null = null;
  /** Database and runs seen running in the shared process (the first-run demo runs studies there). */
  private readonly sharedRuns = new Map<number, string>();
  private readonly studies = new Map<number, StudyHost>();
  /** The database the last call named (the shared process's runs are in it). */
  private lastDbFile: string | null = null;
  private closed = false;

  constructor(private readonly options: EngineOptions = {}) {}

  call<J extends JobName>(job: J, args: JobArgs<J>): Promise<JobResult<J>> {
    if (this.closed) return Promise.reject(new ApiError('unavailable', 'the engine has been shut down'));
    const dbFile = (args as { dbFile?: unknown } | null)?.dbFile;
    if (typeof dbFile === 'string') this.lastDbFile = dbFile;
    if (job === 'startStudy') return this.startStudy(args as JobArgs<'startStudy'>) as Promise<JobResult<J>>;
    if (job === 'stopStudy') {
      const s = this.studies.get((args as JobArgs<'stopStudy'>).studyId);
      if (s?.host.alive) return s.host.call(job, args).finally(s.release) as Promise<JobResult<J>>;
    }
    return this.ensureShared().call(job, args) as Promise<JobResult<J>>;
  }

  /** The shared engine process id (tests use it to show the work ran outside this process). */
  get pid(): number | undefined {
    return this.shared?.child.pid;
  }

  /** The process id running a study, while it runs (tests kill it to show a crash stays contained). */
  studyPid(studyId: number): number | undefined {
    const s = this.studies.get(studyId);
    return s && s.host.alive ? s.host.child.pid : undefined;
  }

  close(): void {
    this.closed = true;
    this.shared?.child.kill();
    this.shared = null;
    for (const s of this.studies.values()) s.host.child.kill();
    this.studies.clear();
  }

  private emit(event: unknown): void {
    this.options.onEvent?.(event);
  }

  private ensureShared(): Host {
    if (this.shared?.alive) return this.shared;
    const host = new Host(
      resolveHost(this.options.hostEntry),
      (event) => {
        // internal to the study processes (the first-run demo's studies end inside this one)
        if ((event as { type?: string }).type === 'study-finished') return;
        this.trackSharedRun(event);
        this.emit(event);
      },
      (h, how) => {
        if (this.shared === h) this.shared = null;
        if (this.closed || this.sharedRuns.size === 0) return;
        const lost = [...this.sharedRuns];
        this.sharedRuns.clear();
        for (const [runId, dbFile] of lost) {
          for (const e of failRunsOfLostProcess(dbFile, { runIds: [runId] }, how, h.child.pid)) this.emit(e);
        }
      },
      this.options.fork,
    );
    this.shared = host;
    return host;
  }

  /** Runs the shared process is running (from its progress events), to fail them if it dies. */
  private trackSharedRun(event: unknown): void {
    const e = event as { type?: string; run?: { id: number; status: string } };
    if (e.type !== 'run-progress' || !e.run) return;
    if (e.run.status === 'running' || e.run.status === 'queued') {
      if (this.lastDbFile) this.sharedRuns.set(e.run.id, this.lastDbFile);
    } else this.sharedRuns.delete(e.run.id);
  }

  /**
   * Starts a stored study in a process of its own; answers once its runs exist (or the study ended before
   * making any, with the reason). A study already running here or in the shared process is not started again.
   */
  private async startStudy(args: JobArgs<'startStudy'>): Promise<JobResult<'startStudy'>> {
    const running = () => {
      const current = this.studies.get(args.studyId);
      return !!current && !current.finished && current.host.alive;
    };
    if (running()) return { started: false, runIds: [], runs: [] };
    if (this.shared?.alive) {
      const { studyIds } = (await this.shared.call('activeStudies', {})) as JobResult<'activeStudies'>;
      // (asked again after the wait: another start of the same study may have begun meanwhile)
      if (studyIds.includes(args.studyId) || running()) return { started: false, runIds: [], runs: [] };
    }
    const entry: StudyHost = {
      dbFile: args.dbFile,
      finished: false,
      // disconnected, the host exits (engine-host.ts)
      release: () => {
        if (entry.finished && !entry.host.busy && entry.host.alive) entry.host.child.disconnect();
      },
      host: new Host(
        resolveHost(this.options.hostEntry),
        (event) => {
          const e = event as { type?: string; studyId?: number };
          // internal: the study stopped; its process may go (it exits when disconnected)
          if (e.type === 'study-finished') {
            entry.finished = true;
            entry.release();
            return;
          }
          this.emit(event);
        },
        (h, how) => {
          if (this.studies.get(args.studyId) === entry) this.studies.delete(args.studyId);
          if (this.closed || entry.finished) return;
          for (const e of failRunsOfLostProcess(entry.dbFile, { studyId: args.studyId }, how, h.child.pid)) this.emit(e);
        },
        this.options.fork,
      ),
    };
    this.studies.set(args.studyId, entry);
    try {
      return (await entry.host.call('startStudy', args)) as JobResult<'startStudy'>;
    } finally {
      entry.release();
    }
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
