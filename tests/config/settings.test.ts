/**
 * The app's settings file (issue 12 item 13): context size and threads checked by the engine's own rules
 * (the study schema's limits, threads from models/session-threads.ts), the data directory checked to be
 * writable or creatable, every problem at once; a bad file never stops the app; new studies take the
 * settings where they set no limits; the data directory setting moves the default data directory.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirProblem, readSettings, settingsFileIn, settingsProblems, withSettingsDefaults, writeSettings } from '../../main/config/settings';
import { maxThreads } from '../../main/models/session-threads';
import { defaultDataDir } from '../../main/server/paths';

const dir = mkdtempSync(join(tmpdir(), 'rw-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('settings file', () => {
  it('reads the defaults when there is no file, and what was written', () => {
    const file = settingsFileIn(join(dir, 'a'));
    expect(readSettings(file)).toEqual({ settings: { contextSize: null, threads: null, dataDir: null }, problems: {} });
    writeSettings(file, { contextSize: 2048, threads: 1, dataDir: join(dir, 'data') });
    expect(readSettings(file)).toEqual({ settings: { contextSize: 2048, threads: 1, dataDir: join(dir, 'data') }, problems: {} });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ contextSize: 2048, threads: 1, dataDir: join(dir, 'data') });
  });

  it('lists every problem at once, with the engine’s own rules and the value', () => {
    const file = join(dir, 'blocker');
    writeFileSync(file, 'x');
    const p = settingsProblems({ contextSize: 0, threads: maxThreads() + 1, dataDir: file });
    expect(Object.keys(p).sort()).toEqual(['contextSize', 'dataDir', 'threads']);
    expect(p.contextSize).toBe('context size must be greater than 0, got number 0');
    expect(p.threads).toBe(`threads must be a whole number from 1 to ${maxThreads()} (twice this machine's ${maxThreads() / 2} CPUs), got ${maxThreads() + 1}`);
    expect(p.dataDir).toBe(`${file} exists and is not a directory`);
    expect(settingsProblems({ contextSize: 4096, threads: 1, dataDir: join(dir, 'new', 'nested') })).toEqual({});
    expect(dataDirProblem('relative/dir')).toBe('must be an absolute path, got "relative/dir"');
  });

  it.skipIf(process.getuid?.() === 0)('refuses a data directory that cannot be created', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    try {
      expect(dataDirProblem(join(ro, 'data'))).toBe(`${join(ro, 'data')} cannot be created: ${ro} is not writable`);
    } finally {
      chmodSync(ro, 0o700);
    }
  });

  it('a broken or out-of-range file leaves those values at their defaults and says why (the app still starts)', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{not json');
    expect(readSettings(file).settings).toEqual({ contextSize: null, threads: null, dataDir: null });
    expect(readSettings(file).problems['']).toMatch(/not valid JSON/);
    writeFileSync(file, JSON.stringify({ contextSize: 1024, threads: -3, dataDir: 'x' }));
    const r = readSettings(file);
    expect(r.settings).toEqual({ contextSize: 1024, threads: null, dataDir: null });
    expect(Object.keys(r.problems).sort()).toEqual(['dataDir', 'threads']);
  });

  it('a new study takes the settings where it sets no limit of its own', () => {
    const s = { contextSize: 1500, threads: 1 };
    expect(withSettingsDefaults({ name: 'x' }, s)).toEqual({ name: 'x', limits: { maxContextTokens: 1500, threads: 1 } });
    expect(withSettingsDefaults({ name: 'x', limits: { threads: 2, maxExamples: 3 } }, s)).toEqual({ name: 'x', limits: { threads: 2, maxExamples: 3, maxContextTokens: 1500 } });
    expect(withSettingsDefaults({ name: 'x' }, { contextSize: null, threads: null })).toEqual({ name: 'x' });
  });

  it('the data directory setting moves the default data directory; RW_DATA_DIR still wins', () => {
    const config = join(dir, 'config');
    writeSettings(settingsFileIn(config), { contextSize: null, threads: null, dataDir: join(dir, 'moved') });
    expect(defaultDataDir({ RW_CONFIG_DIR: config })).toBe(join(dir, 'moved'));
    expect(defaultDataDir({ RW_CONFIG_DIR: config, RW_DATA_DIR: '/elsewhere' })).toBe('/elsewhere');
    expect(defaultDataDir({ RW_CONFIG_DIR: join(dir, 'none') }, 'linux', '/home/u')).toBe('/home/u/.config/Rationale Workbench');
  });
});
