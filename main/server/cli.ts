/**
 * `npm run web`: browser mode. Serves the built renderer (out/renderer) and the workbench API on
 * 127.0.0.1 with a fresh random token, and prints the address to open.
 *   --port N   (default: a free port)   --data-dir DIR   --db FILE
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Workbench } from '../api/service';
import { dbFileIn, defaultDataDir } from './paths';
import { startServer } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function main(): Promise<void> {
  const root = process.cwd();
  const dataDir = resolve(arg('data-dir') ?? defaultDataDir());
  const dbFile = resolve(arg('db') ?? dbFileIn(dataDir));
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(dirname(dbFile), { recursive: true });
  const staticDir = join(root, 'out', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) {
    console.error('The renderer is not built: run `npm run build:renderer` first.');
    process.exit(1);
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const workbench = new Workbench({ dbFile, dataDir, mode: 'browser', version });
  const port = arg('port') ? Number(arg('port')) : 0;
  const srv = await startServer({ workbench, staticDir, port });
  console.log(`Rationale Workbench (browser mode) — database ${dbFile}`);
  console.log(`Open: ${srv.openUrl}`);
  console.log('Listening on 127.0.0.1 only; the token in the address is required. Ctrl-C stops.');
  const stop = async () => {
    await srv.close();
    workbench.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`browser mode failed to start: ${(e as Error).message}`);
  process.exit(1);
});
