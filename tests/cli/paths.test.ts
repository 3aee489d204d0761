import { describe, expect, it } from 'vitest';
import { defaultDbPath as cliDefaultDbPath } from '../../main/cli/paths';
import { dbFileIn, defaultDataDir, defaultDbPath } from '../../main/server/paths';

/**
 * One database for the app, browser mode and the CLI: the CLI's default is the file in Electron's
 * userData directory for productName "Rationale Workbench" (Chromium's XDG rule on Linux).
 */
describe('defaultDbPath (CLI, browser mode and app share it)', () => {
  it('follows each platform convention of Electron userData', () => {
    expect(defaultDbPath({}, 'linux', '/home/ann')).toBe('/home/ann/.config/Rationale Workbench/workbench.sqlite');
    expect(defaultDbPath({ XDG_CONFIG_HOME: '/x/config' }, 'linux', '/home/ann')).toBe('/x/config/Rationale Workbench/workbench.sqlite');
    expect(defaultDbPath({ XDG_CONFIG_HOME: '/x/config/' }, 'linux', '/home/ann')).toBe('/x/config/Rationale Workbench/workbench.sqlite');
    // an empty XDG_CONFIG_HOME counts as unset (Chromium's rule); XDG_DATA_HOME plays no part any more
    expect(defaultDbPath({ XDG_CONFIG_HOME: '' }, 'linux', '/home/ann')).toBe('/home/ann/.config/Rationale Workbench/workbench.sqlite');
    expect(defaultDbPath({ XDG_DATA_HOME: '/x/data' }, 'linux', '/home/ann')).toBe('/home/ann/.config/Rationale Workbench/workbench.sqlite');
    expect(defaultDbPath({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/Rationale Workbench/workbench.sqlite');
    expect(defaultDbPath({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Rationale Workbench\\workbench.sqlite',
    );
    expect(defaultDbPath({}, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\Rationale Workbench\\workbench.sqlite');
  });

  it('RW_DB wins; RW_DATA_DIR moves the whole data directory', () => {
    expect(defaultDbPath({ RW_DB: '/tmp/x.sqlite', XDG_CONFIG_HOME: '/x' }, 'linux', '/h')).toBe('/tmp/x.sqlite');
    expect(defaultDbPath({ RW_DB: '/tmp/x.sqlite', RW_DATA_DIR: '/d' }, 'linux', '/h')).toBe('/tmp/x.sqlite');
    expect(defaultDbPath({ RW_DATA_DIR: '/d', XDG_CONFIG_HOME: '/x' }, 'linux', '/h')).toBe('/d/workbench.sqlite');
    expect(defaultDataDir({ RW_DATA_DIR: '/d' }, 'darwin', '/Users/ann')).toBe('/d');
  });

  it('is the one function: the CLI re-exports it, and it is the data directory\'s database', () => {
    expect(cliDefaultDbPath).toBe(defaultDbPath);
    for (const [env, platform, home] of [
      [{}, 'linux', '/home/ann'],
      [{ XDG_CONFIG_HOME: '/c' }, 'linux', '/home/ann'],
      [{}, 'darwin', '/Users/ann'],
      [{ APPDATA: 'D:\\roam' }, 'win32', 'C:\\Users\\ann'],
    ] as const) {
      expect(defaultDbPath(env, platform, home)).toBe(dbFileIn(defaultDataDir(env, platform, home), platform));
    }
    expect(dbFileIn('D:\\roam\\Rationale Workbench', 'win32')).toBe('D:\\roam\\Rationale Workbench\\workbench.sqlite');
  });
});
