import type { StudyConfig } from '../config/study-schema';
import type { Db } from './db';
import { nowIso } from './json';
import { nameProblem } from './names';
import { StoreError, type StudyRecord } from './types';
import { writeTransaction } from './write';

interface StudyRow {
  id: number;
  name: string;
  config: string;
  version: number;
  parent_id: number | null;
  root_id: number;
  created_at: string;
  updated_at: string;
}

/**
 * Stored study configurations are validated `StudyConfig`s: whoever brings a configuration in parses it once,
 * where it enters (the API's saveStudy, a study file in the runner, the first-run demo), and the store
 * keeps it as given, without parsing it again. A database written by an older version (or by hand) may hold
 * a configuration that no longer fits today's schema: a run of a stored study asked for in the app is
 * validated once, by the API's startRun/resumeRun (api/service.ts storedConfig), and the engine then runs
 * the configuration as stored.
 */
export interface StudiesRepo {
  /** Stores a validated `config` (its `name` set to `name`) as version 1. */
  create(name: string, config: StudyConfig): number;
  get(id: number): StudyRecord<StudyConfig> | undefined;
  /** All versions of all studies, by id; `latestOnly` keeps the newest version of each study. */
  list(options?: { latestOnly?: boolean }): StudyRecord<StudyConfig>[];
  /** All versions of the study that `id` belongs to, oldest first. */
  versions(id: number): StudyRecord<StudyConfig>[];
  /**
   * Changes a study's configuration (and optionally its name). A study without runs is edited in
   * place and its id is returned; a study that has runs is never edited: a new version row
   * (parent = id) is created and ITS id is returned.
   */
  update(id: number, config: StudyConfig, name?: string): number;
  hasRuns(id: number): boolean;

  // ---- housekeeping (issue 12 item 6); deleting with the runs is deletions-repo.ts ----
  /** The newest version of the study that `id` belongs to (what the lists show and the form edits). */
  latest(id: number): StudyRecord<StudyConfig> | undefined;
  /**
   * Renames the study: its newest version gets the name (names.ts) by the rule of update(): in place when that
   * version has no runs, else as a new version with the same configuration, so a run's record keeps the name
   * and configuration it ran with. Returns the id of the version that carries the new name.
   */
  rename(id: number, name: string): number;
}

function toRecord(r: StudyRow): StudyRecord<StudyConfig> {
  return {
    id: r.id,
    name: r.name,
    config: JSON.parse(r.config) as StudyConfig,
    version: r.version,
    parentId: r.parent_id,
    rootId: r.root_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The configuration as stored: the name argument wins over the configuration's own. Not parsed again (see StudiesRepo). */
function named(name: string, config: StudyConfig): StudyConfig {
  if (typeof name !== 'string' || name.trim() === '') throw new StoreError('study: field "name" must be a non-empty string');
  return { ...config, name };
}

export function studiesRepo(db: Db): StudiesRepo {
  const insert = db.prepare(
    `INSERT INTO studies (name, config, version, parent_id, root_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const setRoot = db.prepare(`UPDATE studies SET root_id = id WHERE id = ?`);
  const byId = db.prepare(`SELECT * FROM studies WHERE id = ?`);
  const all = db.prepare(`SELECT * FROM studies ORDER BY id`);
  const latest = db.prepare(
    `SELECT * FROM studies s WHERE version = (SELECT max(version) FROM studies WHERE root_id = s.root_id) ORDER BY id`,
  );
  const byRoot = db.prepare(`SELECT * FROM studies WHERE root_id = ? ORDER BY version`);
  const maxVersion = db.prepare(`SELECT max(version) AS v FROM studies WHERE root_id = ?`);
  const runCount = db.prepare(`SELECT count(*) AS n FROM runs WHERE study_id = ?`);
  const latestOf = db.prepare(`SELECT * FROM studies WHERE root_id = ? ORDER BY version DESC LIMIT 1`);
  const edit = db.prepare(`UPDATE studies SET name = ?, config = ?, updated_at = ? WHERE id = ?`);

  const hasRuns = (id: number) => (runCount.get(id) as { n: number }).n > 0;
  const getRow = (id: number) => byId.get(id) as StudyRow | undefined;

  const create = writeTransaction(db, 'study create', (name: string, config: StudyConfig): number => {
    const now = nowIso();
    const id = Number(insert.run(name, JSON.stringify(config), 1, null, null, now, now).lastInsertRowid);
    setRoot.run(id);
    return id;
  });

  const update = writeTransaction(db, 'study update', (id: number, config: StudyConfig, name?: string): number => {
    const row = getRow(id);
    if (!row) throw new StoreError(`study ${id} does not exist`);
    const newName = name ?? row.name;
    const cfg = JSON.stringify(named(newName, config));
    const now = nowIso();
    if (!hasRuns(id)) {
      edit.run(newName, cfg, now, id);
      return id;
    }
    const { v } = maxVersion.get(row.root_id) as { v: number };
    return Number(insert.run(newName, cfg, v + 1, id, row.root_id, now, now).lastInsertRowid);
  });

  return {
    create: (name, config) => create(name, named(name, config)),
    get(id) {
      const r = getRow(id);
      return r && toRecord(r);
    },
    list: ({ latestOnly = false } = {}) => ((latestOnly ? latest : all).all() as StudyRow[]).map(toRecord),
    versions(id) {
      const r = getRow(id);
      return r ? (byRoot.all(r.root_id) as StudyRow[]).map(toRecord) : [];
    },
    update: (id, config, name) => update(id, config, name),
    hasRuns,
    // ---- housekeeping (issue 12 item 6) ----
    latest(id) {
      const r = getRow(id);
      return r && toRecord(latestOf.get(r.root_id) as StudyRow);
    },
    rename(id, name) {
      const problem = nameProblem(name);
      if (problem) throw new StoreError(`study ${id}: field "name" ${problem}`);
      const r = getRow(id);
      if (!r) throw new StoreError(`study ${id} does not exist`);
      const last = latestOf.get(r.root_id) as StudyRow;
      return update(last.id, JSON.parse(last.config) as StudyConfig, name.trim());
    },
  };
}
