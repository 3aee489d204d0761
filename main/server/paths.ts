import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The workbench's data directory outside Electron, matching Electron's app.getPath('userData') for
 * productName "Rationale Workbench", so browser mode, the app and the CLI share one database.
 */
export const PRODUCT_NAME = 'Rationale Workbench';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.RW_DATA_DIR) return env.RW_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), PRODUCT_NAME);
}

export const dbFileIn = (dataDir: string) => join(dataDir, 'workbench.sqlite');
