/**
 * The app's settings (issue 12 item 13): context size, threads and the data directory, in a small JSON file
 * in the app's CONFIG directory — not in the database, which lives in the data directory and so cannot say
 * where the data directory is. The config directory is where the data directory is by default (Electron's
 * userData: ~/.config/Rationale Workbench on Linux, see main/server/paths.ts), RW_CONFIG_DIR moves it.
 *
 * How they apply:
 *   - contextSize and threads are the defaults of a NEW study: a study that does not set `limits.maxContextTokens`
 *     or `limits.threads` gets them when it is saved (or checked) through the API, so the stored study says
 *     what ran and its re-runs do not change when the settings change later (same input, same bits).
 *   - dataDir takes effect on the next start (the database, uploads, models and reports are opened there);
 *     RW_DATA_DIR still wins over it.
 * Validation uses the engine's own rules: the study schema's limits (main/config/study-schema.ts, whose
 * threads rule is main/models/session-threads.ts), and for the data directory: absolute, an existing
 * writable directory or one that can be created.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseStudyConfig } from './study-schema';

export const SETTINGS_FILE_NAME = 'settings.json';

export interface Settings {
  /** Default prompt-token limit of a new study (`limits.maxContextTokens`); null: the schema's default. */
  contextSize: number | null;
  /** Default llama.cpp threads of a new study (`limits.threads`); null: the schema's default. */
  threads: number | null;
  /** The data directory from the next start on; null: the default (the config directory itself). */
  dataDir: string | null;
}

export const NO_SETTINGS: Settings = { contextSize: null, threads: null, dataDir: null };

/** Problems keyed by field ("contextSize", "threads", "dataDir"); empty when the settings are usable. */
export type SettingsProblems = Record<string, string>;

/** The settings file in a config directory. */
export const settingsFileIn = (configDir: string) => join(configDir, SETTINGS_FILE_NAME);

/**
 * The settings stored in `file`; the defaults when there is none. A file that is not valid JSON or holds
 * values out of range is not fatal (the app must still start): those values are left at their defaults
 * and `problems` says why, so the Settings screen can show it.
 */
export function readSettings(file: string): { settings: Settings; problems: SettingsProblems } {
  if (!existsSync(file)) return { settings: { ...NO_SETTINGS }, problems: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { settings: { ...NO_SETTINGS }, problems: { '': `${file} is not valid JSON (${(e as Error).message}); the defaults apply` } };
  }
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const candidate: Settings = {
    contextSize: (o.contextSize ?? null) as number | null,
    threads: (o.threads ?? null) as number | null,
    dataDir: (o.dataDir ?? null) as string | null,
  };
  // The data directory is checked when it is saved and when it is opened, not here: an unplugged disk must
  // not make the file unreadable.
  const problems = checkLimits(candidate);
  if (candidate.dataDir !== null && (typeof candidate.dataDir !== 'string' || !isAbsolute(candidate.dataDir))) {
    problems.dataDir = `must be an absolute path, got ${JSON.stringify(candidate.dataDir)}`;
  }
  const settings: Settings = {
    contextSize: problems.contextSize ? null : candidate.contextSize,
    threads: problems.threads ? null : candidate.threads,
    dataDir: problems.dataDir ? null : candidate.dataDir,
  };
  return { settings, problems };
}

/** contextSize and threads checked by the study schema's own limits (one rule, one module). */
function checkLimits(s: Pick<Settings, 'contextSize' | 'threads'>): SettingsProblems {
  const limits: Record<string, unknown> = {};
  if (s.contextSize !== null) limits.maxContextTokens = s.contextSize;
  if (s.threads !== null) limits.threads = s.threads;
  if (!Object.keys(limits).length) return {};
  const r = parseStudyConfig({ name: 'settings', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ id: 1 }], limits });
  const problems: SettingsProblems = {};
  if (!r.ok) {
    for (const e of r.errors) {
      if (e.path === 'limits.maxContextTokens') problems.contextSize = `context size ${e.message}`;
      else if (e.path === 'limits.threads') problems.threads = `threads ${e.message}`;
    }
  }
  return problems;
}

/** Why `dir` cannot be the data directory (null when it can): absolute, and an existing writable directory or creatable. */
export function dataDirProblem(dir: string): string | null {
  if (!isAbsolute(dir)) return `must be an absolute path, got ${JSON.stringify(dir)}`;
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) return `${dir} exists and is not a directory`;
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      return `${dir} is not writable`;
    }
    return null;
  }
  // Not there yet: its nearest existing parent must be a writable directory (it is created on the next start).
  let parent = dirname(dir);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    if (!statSync(parent).isDirectory()) return `${dir} cannot be created: ${parent} is not a directory`;
    accessSync(parent, constants.W_OK);
  } catch {
    return `${dir} cannot be created: ${parent} is not writable`;
  }
  return null;
}

/** Every problem of `s` at once (contextSize, threads, dataDir). */
export function settingsProblems(s: Settings): SettingsProblems {
  const problems = checkLimits(s);
  if (s.dataDir !== null) {
    const p = dataDirProblem(s.dataDir);
    if (p) problems.dataDir = p;
  }
  return problems;
}

/** Writes the settings atomically (a half-written file would lose them all). */
export function writeSettings(file: string, s: Settings): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ contextSize: s.contextSize, threads: s.threads, dataDir: s.dataDir === null ? null : resolve(s.dataDir) }, null, 1) + '\n');
  renameSync(tmp, file);
}

/**
 * A study configuration as it comes in through the API, with the settings' defaults where it sets no
 * `limits.maxContextTokens` / `limits.threads`. Anything that is not a plain object is returned as it is
 * (the schema then says what is wrong with it).
 */
export function withSettingsDefaults(config: unknown, s: Pick<Settings, 'contextSize' | 'threads'>): unknown {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return config;
  if (s.contextSize === null && s.threads === null) return config;
  const c = config as Record<string, unknown>;
  const given = c.limits;
  if (given !== undefined && (!given || typeof given !== 'object' || Array.isArray(given))) return config;
  const limits = { ...((given as Record<string, unknown>) ?? {}) };
  if (s.contextSize !== null && limits.maxContextTokens === undefined) limits.maxContextTokens = s.contextSize;
  if (s.threads !== null && limits.threads === undefined) limits.threads = s.threads;
  return { ...c, limits };
}
