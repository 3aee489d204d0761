import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finds the Electron executable WITHOUT `require('electron')` (which would start its download).
 * Order: ELECTRON_OVERRIDE_DIST_PATH (a directory holding an Electron build, as Electron's own CLI
 * reads it), then node_modules/electron/path.txt + dist/ (written by Electron's install step).
 */
export type ElectronLookup = { ok: true; path: string } | { ok: false; reason: string };

export function findElectronBinary(root: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ElectronLookup {
  const exe = platform === 'win32' ? 'electron.exe' : platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron';
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = join(override, exe);
    if (existsSync(p)) return { ok: true, path: p };
    return { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${p} does not exist` };
  }
  const pkgDir = join(root, 'node_modules', 'electron');
  if (!existsSync(pkgDir)) return { ok: false, reason: 'the electron package is not installed (run npm ci)' };
  const pathTxt = join(pkgDir, 'path.txt');
  if (!existsSync(pathTxt)) {
    return {
      ok: false,
      reason:
        'the Electron binary is not installed (node_modules/electron/path.txt is missing: its download from GitHub did not happen or failed; ' +
        'on a machine without that access, point ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron 45 build)',
    };
  }
  const p = join(pkgDir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(p)) return { ok: false, reason: `the Electron binary ${p} named by node_modules/electron/path.txt is missing` };
  return { ok: true, path: p };
}

/** Why a window cannot open here even with a binary (Linux without X11/Wayland); null when it can. */
export function displayProblem(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  if (platform !== 'linux') return null;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}
