import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Workbench } from '../api/service';
import { startFirstRunDemo, type FirstRunOutcome } from '../api/first-run';
import { dbFileIn, defaultDataDir } from './paths';
import { startServer, type RunningServer } from './server';

export interface BrowserModeOptions {
  root?: string;
  dataDir?: string;
  dbFile?: string;
  port?: number;
  log?: (line: string) => void;
  /**
   * Run the first-run demo (main/api/first-run.ts) in the background when the database has no runs
   * yet; default false (the launcher turns it on unless --no-demo / RW_NO_DEMO).
   */
  firstRunDemo?: boolean;
}

export interface BrowserMode {
  server: RunningServer;
  workbench: Workbench;
  /** The first-run demo's outcome (settles when it ends; 'skipped' when not asked for or not a first run). */
  demo: Promise<FirstRunOutcome>;
  stop(): Promise<void>;
}

/** Starts browser mode (the built renderer + API on 127.0.0.1 with a token) and prints the address. */
export async function startBrowserMode(o: BrowserModeOptions = {}): Promise<BrowserMode> {
  const root = o.root ?? process.cwd();
  const log = o.log ?? console.log;
  const dataDir = resolve(o.dataDir ?? defaultDataDir());
  // RW_DB names the database alone (as for the CLI: one file for all three front ends).
  const dbFile = resolve(o.dbFile ?? process.env.RW_DB ?? dbFileIn(dataDir));
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(dirname(dbFile), { recursive: true });
  const staticDir = join(root, 'out', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error('the renderer is not built: run `npm run build:renderer` first');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const workbench = new Workbench({ dbFile, dataDir, mode: 'browser', version, ...(o.dataDir !== undefined ? { dataDirSource: 'command line' as const } : {}) });
  const server = await startServer({ workbench, staticDir, port: o.port ?? 0 });
  log(`Rationale Workbench (browser mode) — database ${dbFile}`);
  log(`Open: ${server.openUrl}`);
  log('Listening on 127.0.0.1 only; the token in the address is required. Ctrl-C stops.');
  // Not awaited: the demo runs in the engine process while the server answers.
  const demo = o.firstRunDemo ? startFirstRunDemo(workbench, { log }) : Promise.resolve<FirstRunOutcome>({ status: 'skipped', reason: 'not asked for' });
  return {
    server,
    workbench,
    demo,
    async stop() {
      await server.close();
      workbench.close();
    },
  };
}
