/**
 * Built-in studies (studies/<name>.json, one study configuration each) and built-in datasets
 * (studies/datasets/catalog.json). A name that is not a file selects a group: "demo" runs every
 * studies/demo-*.json, "paper-rafola" every studies/paper-rafola-*.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStudyConfig, type StudyConfig } from '../config/study-schema';
import { builtinDefinitions, readDefinitionsFile } from '../protocol/indicator-definitions';

/** Repository root (this file is main/studies/builtins.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STUDIES_DIR = join(REPO_ROOT, 'studies');

export interface NamedStudy {
  /** Built-in name or the file's base name. */
  name: string;
  file: string;
  /**
   * The raw JSON (validated later by parseStudyConfig). A forced-labour definitions file it names
   * ("task.definitions", or the old top-level "indicatorDefinitions", moved there; relative to the study
   * file) is read here and its text put in task.definitions, so the stored study records the words its
   * runs used and nothing later reads a path from a configuration.
   */
  config: unknown;
}

/**
 * A study whose configuration is already validated: a stored study (the store keeps only parsed
 * configurations), run as stored without parsing it again. `file` names it in messages ("study 3").
 */
export interface ValidatedStudy {
  name: string;
  file: string;
  validated: StudyConfig;
  /** The stored study it is (the GUI's runs): its runs belong to it, not to a study found by name and config. */
  studyId?: number;
}

/** What the runner takes: a study file's raw JSON (parsed once, by studyConfigOf) or a validated study. */
export type StudyToRun = NamedStudy | ValidatedStudy;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A study file's JSON as a NamedStudy: a definitions file it names (task.definitions other than a
 * built-in name, relative to the study file) is read with the one loader and replaced by its text.
 * Old files name it in a top-level "indicatorDefinitions" (outside the schema); that is read the same
 * way into task.definitions, so old and new files give the same configuration.
 */
export function namedStudy(name: string, file: string, raw: unknown): NamedStudy {
  if (!isObject(raw)) return { name, file, config: raw };
  const { indicatorDefinitions, ...rest } = raw;
  const task = rest.task;
  let field: string;
  let given: string;
  if ('indicatorDefinitions' in raw) {
    if (typeof indicatorDefinitions !== 'string' || indicatorDefinitions.trim() === '') {
      throw new BuiltinError(`${file}: field "indicatorDefinitions" must be a file path (relative to the study file)`);
    }
    if (!isObject(task)) throw new BuiltinError(`${file}: field "indicatorDefinitions" needs a "task" object to move into (as task.definitions)`);
    if ('definitions' in task) {
      throw new BuiltinError(`${file}: field "indicatorDefinitions": give the definitions file once, as "task.definitions" (the old top-level field is read as that)`);
    }
    field = 'indicatorDefinitions';
    given = indicatorDefinitions;
  } else if (isObject(task) && typeof task.definitions === 'string' && task.definitions.trim() !== '' && !builtinDefinitions(task.definitions)) {
    field = 'task.definitions';
    given = task.definitions;
  } else {
    // a built-in name, the text itself, or nothing: the schema's to check
    return { name, file, config: raw };
  }
  let definitions;
  try {
    definitions = readDefinitionsFile(resolve(dirname(file), given));
  } catch (e) {
    throw new BuiltinError(`${file}: field "${field}": ${(e as Error).message}`);
  }
  return { name, file, config: { ...rest, task: { ...task, definitions } } };
}

export interface CatalogEntry {
  format: 'msst' | 'rafola' | 'climate-fever' | 'csv' | 'jsonl';
  file: string;
  language?: string;
  labelsFile?: string;
  howToGet: string;
}

export class BuiltinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuiltinError';
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BuiltinError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function builtinStudyNames(dir = STUDIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/**
 * A study's validated configuration: a study file's JSON is parsed here (the one parse of a study file;
 * an invalid one is an error naming the file and each field); a validated study's is returned as it is.
 */
export function studyConfigOf(s: StudyToRun): StudyConfig {
  if ('validated' in s) return s.validated;
  const r = parseStudyConfig(s.config);
  if (!r.ok) throw new Error(`${s.file}: invalid study configuration: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return r.config;
}

/** A study file path, a built-in name, or a group prefix → the study files to run, in name order. */
export function resolveStudies(ref: string, dir = STUDIES_DIR): NamedStudy[] {
  if (ref.endsWith('.json') || ref.includes('/')) {
    const file = resolve(ref);
    if (!existsSync(file)) throw new BuiltinError(`${ref}: no such study file`);
    return [namedStudy(basename(file).replace(/\.json$/, ''), file, readJson(file))];
  }
  const names = builtinStudyNames(dir);
  const hits = names.includes(ref) ? [ref] : names.filter((n) => n.startsWith(`${ref}-`));
  if (hits.length === 0) {
    throw new BuiltinError(`no built-in study "${ref}" (built-in: ${names.join(', ') || 'none'}; or give a study .json file)`);
  }
  return hits.map((n) => namedStudy(n, join(dir, `${n}.json`), readJson(join(dir, `${n}.json`))));
}

export function datasetCatalog(dir = STUDIES_DIR): Record<string, CatalogEntry> {
  const raw = readJson(join(dir, 'datasets', 'catalog.json')) as Record<string, unknown>;
  const out: Record<string, CatalogEntry> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('_')) out[k] = v as CatalogEntry;
  return out;
}

/** Where built-in dataset files are looked for: the repository, $RW_DATA_DIR, then ../shared/data. */
export function dataSearchPath(): string[] {
  const dirs = [REPO_ROOT];
  if (process.env.RW_DATA_DIR) dirs.push(resolve(process.env.RW_DATA_DIR));
  dirs.push(resolve(REPO_ROOT, '../shared/data'));
  return dirs;
}

export interface ResolvedDataset {
  name: string;
  entry: CatalogEntry;
  file: string;
  labelsFile?: string;
}

/** Finds a built-in dataset's file; a missing one is an error that says how to get it. */
export function resolveBuiltinDataset(name: string, dir = STUDIES_DIR): ResolvedDataset {
  const cat = datasetCatalog(dir);
  // own keys only: a name is looked up in the catalogue, never as "__proto__" or a path
  const entry = Object.hasOwn(cat, name) ? cat[name] : undefined;
  if (!entry) throw new BuiltinError(`no built-in dataset "${name}" (known: ${Object.keys(cat).join(', ')})`);
  const find = (rel: string) =>
    isAbsolute(rel) ? (existsSync(rel) ? rel : undefined) : dataSearchPath().map((d) => join(d, rel)).find((p) => existsSync(p));
  const file = find(entry.file);
  if (!file) {
    throw new BuiltinError(
      `dataset "${name}" needs ${entry.file}, not found in ${dataSearchPath().join(', ')}. How to get it: ${entry.howToGet}`,
    );
  }
  let labelsFile: string | undefined;
  if (entry.labelsFile) {
    labelsFile = find(entry.labelsFile);
    if (!labelsFile) {
      throw new BuiltinError(`dataset "${name}" needs the labels file ${entry.labelsFile} next to its data. How to get it: ${entry.howToGet}`);
    }
  }
  return { name, entry, file, labelsFile };
}

/** Expands $VARS in a model path; $RW_DEMO_MODEL defaults to the generated demo model. */
export function expandPath(p: string, vars: Record<string, string | undefined>): string {
  return p.replace(/\$([A-Z_][A-Z0-9_]*)|\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, a, b) => {
    const k = a ?? b;
    const v = vars[k] ?? process.env[k];
    if (v === undefined) throw new BuiltinError(`model path "${p}" uses $${k}, which is not set`);
    return v;
  });
}
