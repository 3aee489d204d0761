/**
 * The README's run command: start the Electron app; where Electron cannot start (no binary, no
 * display, or it exits at once, e.g. a native module built for another ABI), say why and serve
 * browser mode instead, printing its address. Imports no electron: it only looks for the binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startBrowserMode } from '../server/web';
import { displayProblem, findElectronBinary } from './electron-binary';

const root = process.cwd();

function build(args: string[]): boolean {
  const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

async function browserMode(reason: string): Promise<void> {
  console.log(`Electron cannot start here: ${reason}.`);
  console.log('Serving browser mode instead (the same app in your browser).');
  if (!existsSync(join(root, 'out', 'renderer', 'index.html')) || process.env.RW_REBUILD !== '0') {
    if (!build(['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])) {
      console.error('building the renderer failed');
      process.exit(1);
    }
  }
  const { stop } = await startBrowserMode({ root });
  const quit = () => void stop().then(() => process.exit(0));
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
  const child = spawn(bin.path, ['.'], { cwd: root, stdio: 'inherit' });
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
