import os from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'rationale-workbench';
export const DB_FILE_NAME = 'workbench.sqlite';

/**
 * The workbench's own database file in the user's data directory:
 *   Linux and others: $XDG_DATA_HOME/rationale-workbench/workbench.sqlite (default ~/.local/share/...)
 *   macOS:            ~/Library/Application Support/rationale-workbench/workbench.sqlite
 *   Windows:          %APPDATA%\rationale-workbench\workbench.sqlite
 * RW_DB overrides it (tests, several workspaces side by side).
 */
export function defaultDbPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.RW_DB) return env.RW_DB;
  const p = platform === 'win32' ? path.win32 : path.posix;
  let base: string;
  if (platform === 'win32') base = env.APPDATA || p.join(home, 'AppData', 'Roaming');
  else if (platform === 'darwin') base = p.join(home, 'Library', 'Application Support');
  else base = env.XDG_DATA_HOME && p.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : p.join(home, '.local', 'share');
  return p.join(base, APP_DIR_NAME, DB_FILE_NAME);
}
