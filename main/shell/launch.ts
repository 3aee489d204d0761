/**
 * The README's run command (`npm start`): start the Electron app; where Electron cannot start (no
 * binary, no display, or it exits at once, e.g. a native module built for another ABI), say why and
 * serve browser mode instead, printing its address. Imports no electron: it only looks for the binary.
 *
 * On a fresh workbench (a database without runs) either mode also runs the first-run demo in the
 * engine process and prints where its PDF report went (main/api/first-run.ts).
 *   --browser   serve browser mode without trying Electron
 *   --no-demo   no first-run demo (also RW_NO_DEMO=1)
 * Environment: RW_DATA_DIR, RW_DB (main/server/paths.ts); RW_REBUILD=0 never rebuilds the renderer,
 * RW_REBUILD=1 always does (default: when its sources are newer than the build).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { demoDisabled } from '../api/first-run';
import { startBrowserMode } from '../server/web';
import { displayProblem, findElectronBinary } from './electron-binary';

const root = process.cwd();

function build(args: string[]): boolean {
  const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The renderer build is missing or older than its sources (renderer/ and the API types it bundles). */
function rendererStale(): boolean {
  const index = join(root, 'out', 'renderer', 'index.html');
  if (!existsSync(index)) return true;
  if (process.env.RW_REBUILD === '0') return false;
  if (process.env.RW_REBUILD === '1') return true;
  return Math.max(newest(join(root, 'renderer')), newest(join(root, 'main', 'api'))) > statSync(index).mtimeMs;
}

async function browserMode(reason: string): Promise<void> {
  console.log(`Electron cannot start here: ${reason}.`);
  console.log('Serving browser mode instead (the same app in your browser).');
  if (rendererStale() && !build(['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])) {
    console.error('building the renderer failed');
    process.exit(1);
  }
  const { stop } = await startBrowserMode({ root, firstRunDemo: !demoDisabled() });
  let stopping = false;
  const quit = () => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
}

async function main(): Promise<void> {
  if (process.argv.includes('--browser')) return browserMode('browser mode was asked for (--browser)');
  const bin = findElectronBinary(root);
  if (!bin.ok) return browserMode(bin.reason);
  const noDisplay = displayProblem();
  if (noDisplay) return browserMode(noDisplay);
  if (!build(['electron-vite', 'build', '--logLevel', 'warn'])) return browserMode('building the Electron app failed');
  const started = Date.now();
  // The app reads the switch from its environment (main/shell/main.ts).
  const env = demoDisabled() ? { ...process.env, RW_NO_DEMO: '1' } : { ...process.env, RW_FIRST_RUN_DEMO: '1' };
  const child = spawn(bin.path, ['.'], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code, signal) => {
    // A quick non-zero exit means the app could not start at all (not that the user closed it).
    if (code !== 0 && Date.now() - started < 10_000) {
      void browserMode(`Electron exited at start (${signal ?? `code ${code}`}); if it mentions better-sqlite3, its native module needs a rebuild for Electron (npx electron-builder install-app-deps)`);
    } else process.exit(code ?? 0);
  });
}

main().catch((e: Error) => {
  console.error(`start failed: ${e.message}`);
  process.exit(1);
});
