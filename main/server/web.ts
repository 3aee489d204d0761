import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Workbench } from '../api/service';
import { dbFileIn, defaultDataDir } from './paths';
import { startServer, type RunningServer } from './server';

export interface BrowserModeOptions {
  root?: string;
  dataDir?: string;
  dbFile?: string;
  port?: number;
  log?: (line: string) => void;
}

/** Starts browser mode (the built renderer + API on 127.0.0.1 with a token) and prints the address. */
export async function startBrowserMode(o: BrowserModeOptions = {}): Promise<{ server: RunningServer; workbench: Workbench; stop(): Promise<void> }> {
  const root = o.root ?? process.cwd();
  const log = o.log ?? console.log;
  const dataDir = resolve(o.dataDir ?? defaultDataDir());
  const dbFile = resolve(o.dbFile ?? dbFileIn(dataDir));
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(dirname(dbFile), { recursive: true });
  const staticDir = join(root, 'out', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error('the renderer is not built: run `npm run build:renderer` first');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const workbench = new Workbench({ dbFile, dataDir, mode: 'browser', version });
  const server = await startServer({ workbench, staticDir, port: o.port ?? 0 });
  log(`Rationale Workbench (browser mode) — database ${dbFile}`);
  log(`Open: ${server.openUrl}`);
  log('Listening on 127.0.0.1 only; the token in the address is required. Ctrl-C stops.');
  return {
    server,
    workbench,
    async stop() {
      await server.close();
      workbench.close();
    },
  };
}
