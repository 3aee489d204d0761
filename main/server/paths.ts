import os from 'node:os';
import path from 'node:path';
import { readSettings, settingsFileIn } from '../config/settings';

/**
 * Where the workbench keeps its data: ONE directory and ONE SQLite file shared by the Electron app,
 * browser mode and the CLI. The directory is Electron's app.getPath('userData') for productName
 * "Rationale Workbench", computed here without Electron so that the CLI and browser mode find the
 * same file the app uses:
 *   Linux and others: $XDG_CONFIG_HOME/Rationale Workbench (default ~/.config/Rationale Workbench)
 *   macOS:            ~/Library/Application Support/Rationale Workbench
 *   Windows:          %APPDATA%\Rationale Workbench
 * That directory is also the CONFIG directory, which holds settings.json (main/config/settings.ts); its
 * `dataDir` setting moves the data directory (from the next start on).
 * Overrides (environment):
 *   RW_DATA_DIR   the data directory (database, uploads, exports, reports, models copied in); wins over the setting
 *   RW_DB         the database file alone (wins over RW_DATA_DIR for the database)
 *   RW_CONFIG_DIR the config directory (settings.json)
 */
export const PRODUCT_NAME = 'Rationale Workbench';
export const DB_FILE_NAME = 'workbench.sqlite';

const pathsFor = (platform: NodeJS.Platform) => (platform === 'win32' ? path.win32 : path.posix);

export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.RW_DATA_DIR) return env.RW_DATA_DIR;
  const config = defaultConfigDir(env, platform, home);
  // Only read where the file can be (this platform's own paths): a test asking for another platform's
  // default gets that default.
  const fromSettings = platform === process.platform ? readSettings(settingsFileIn(config)).settings.dataDir : null;
  return fromSettings ?? platformDir(platform, env, home);
}

/** The config directory (settings.json): RW_CONFIG_DIR, else the platform's app directory (below). */
export function defaultConfigDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  return env.RW_CONFIG_DIR || platformDir(platform, env, home);
}

function platformDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  const p = pathsFor(platform);
  if (platform === 'win32') return p.join(env.APPDATA || p.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  // Chromium's rule (base::nix XDG lookup) that Electron follows: XDG_CONFIG_HOME when set, else ~/.config.
  return p.join(env.XDG_CONFIG_HOME || p.join(home, '.config'), PRODUCT_NAME);
}

export const dbFileIn = (dataDir: string, platform: NodeJS.Platform = process.platform) => pathsFor(platform).join(dataDir, DB_FILE_NAME);

/** The workbench's database file: RW_DB, else workbench.sqlite in the data directory (see above). */
export function defaultDbPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.RW_DB) return env.RW_DB;
  return dbFileIn(defaultDataDir(env, platform, home), platform);
}
