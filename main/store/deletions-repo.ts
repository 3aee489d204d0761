/**
 * Deleting a dataset, model, study or run, with what goes with it (issue 12 item 6). The one place that decides
 * what a deletion takes along, so the consequences shown before (impact) are what delete() then does:
 *
 * - a run: its results, relevance and metrics (they cascade).
 * - a study: every version of it and all their runs. A study's versions are what its runs ran (a version
 *   with runs is never edited, studies-repo.ts), so nothing of another study goes.
 * - a dataset: its examples, every run over it (a result points at an example: a run cannot outlive its
 *   dataset), and every study version whose configuration names it (it could not run again). Other versions
 *   of those studies stay.
 * - a model: its runs (they cannot be reproduced without the model). The study versions that name it stay,
 *   with their other models' runs: they need another model before they run again (impact.keptStudies). The
 *   model's file is not touched here: the API decides about a copy the workbench made (api/deletion.ts).
 *
 * A running run is never deleted: while any run that would go is running (its process holds a live lease), or
 * queued behind a running run of its study, or its study is running in the app (options.isStudyActive), the
 * deletion is refused with the reason. Everything is deleted in one transaction. A dataset's examples are
 * then deleted in chunks (datasets-repo.ts): the dataset disappears in that transaction, and a delete killed
 * half-way is finished at the next open.
 */
import type { Db } from './db';
import type { DatasetsRepo } from './datasets-repo';
import type { RunsRepo } from './runs-repo';
import { StoreError, type RunStatus } from './types';
import { writeTransaction } from './write';

export const DELETION_KINDS = ['dataset', 'model', 'study', 'run'] as const;
export type DeletionKind = (typeof DELETION_KINDS)[number];

/** A study touched by a deletion: its newest version's id and name, and which of its versions are meant. */
export interface AffectedStudy {
  id: number;
  name: string;
  /** Version numbers (1, 2, …) deleted with it (or, in keptStudies, that name the model). */
  versions: number[];
  /** All versions of the study go. */
  allVersions: boolean;
}

export interface DeletedRun {
  id: number;
  name: string | null;
  studyId: number;
  studyName: string;
  status: RunStatus;
  results: number;
}

export interface DeletionImpact {
  kind: DeletionKind;
  id: number;
  name: string;
  /** Study versions deleted with it, by study. For a study: the study itself. */
  studies: AffectedStudy[];
  /** Runs deleted with it. For a run: the run itself. */
  runs: DeletedRun[];
  /** Results of those runs. */
  results: number;
  /** A dataset's examples (0 for the other kinds). */
  examples: number;
  /** A model: the study versions that name it and stay (they need another model before they run again). */
  keptStudies: AffectedStudy[];
  /** A model: the path of its file as registered (null for the other kinds). */
  modelPath: string | null;
  /** Why it cannot be deleted now (a run that would go is running), or null. */
  refused: string | null;
}

export interface DeletionOptions {
  /** Whether the app is running this study (version id) now, e.g. the engine's study processes. */
  isStudyActive?: (studyId: number) => boolean;
}

export interface DeletionsRepo {
  /** What deleting would take along, without deleting anything. Throws StoreError if the record does not exist. */
  impact(kind: DeletionKind, id: number, options?: DeletionOptions): DeletionImpact;
  /** Deletes it with everything impact() lists, in one transaction; refused (StoreError) while impact().refused. */
  delete(kind: DeletionKind, id: number, options?: DeletionOptions): DeletionImpact;
}

interface StudyRow {
  id: number;
  name: string;
  version: number;
  parent_id: number | null;
  root_id: number;
}

export function deletionsRepo(db: Db, repos: { datasets: DatasetsRepo; runs: RunsRepo }): DeletionsRepo {
  const q = {
    dataset: db.prepare(`SELECT name, (SELECT count(*) FROM examples WHERE dataset_id = d.id) AS examples FROM datasets d WHERE id = ? AND state = 'ready'`),
    model: db.prepare(`SELECT path, metadata FROM models WHERE id = ?`),
    study: db.prepare(`SELECT id, name, version, parent_id, root_id FROM studies WHERE id = ?`),
    run: db.prepare(`SELECT id FROM runs WHERE id = ?`),
    versionsOf: db.prepare(`SELECT id, name, version, parent_id, root_id FROM studies WHERE root_id = ? ORDER BY version`),
    versionsNamingDataset: db.prepare(`SELECT id FROM studies WHERE json_extract(config, '$.dataset.id') = ? ORDER BY id`).pluck(),
    versionsNamingModel: db.prepare(
      `SELECT id FROM studies s WHERE EXISTS (SELECT 1 FROM json_each(s.config, '$.models') m WHERE json_extract(m.value, '$.id') = ?) ORDER BY id`,
    ).pluck(),
    runsOfStudy: db.prepare(`SELECT id FROM runs WHERE study_id = ? ORDER BY id`).pluck(),
    runsOfDataset: db.prepare(`SELECT id FROM runs WHERE dataset_id = ? ORDER BY id`).pluck(),
    runsOfModel: db.prepare(`SELECT id FROM runs WHERE model_id = ? ORDER BY id`).pluck(),
    results: db.prepare(`SELECT count(*) FROM results WHERE run_id = ?`).pluck(),
    setParent: db.prepare(`UPDATE studies SET parent_id = ? WHERE id = ?`),
    setRoot: db.prepare(`UPDATE studies SET root_id = ? WHERE id = ?`),
    delStudy: db.prepare(`DELETE FROM studies WHERE id = ?`),
    delModel: db.prepare(`DELETE FROM models WHERE id = ?`),
  };
  const studyRow = (id: number) => q.study.get(id) as StudyRow | undefined;
  const newest = (rootId: number) => (q.versionsOf.all(rootId) as StudyRow[]).at(-1)!;

  /** Study versions grouped by study (root), each named by its newest version. */
  const group = (versionIds: readonly number[]): AffectedStudy[] => {
    const byRoot = new Map<number, StudyRow[]>();
    for (const id of versionIds) {
      const r = studyRow(id);
      if (r) byRoot.set(r.root_id, [...(byRoot.get(r.root_id) ?? []), r]);
    }
    return [...byRoot].map(([rootId, rows]) => {
      const all = q.versionsOf.all(rootId) as StudyRow[];
      const last = all.at(-1)!;
      return { id: last.id, name: last.name, versions: rows.map((r) => r.version).sort((a, b) => a - b), allVersions: rows.length === all.length };
    });
  };

  /** Why the run cannot go now, or null. */
  const busy = (runId: number, studyName: string, options: DeletionOptions): string | null => {
    const run = repos.runs.get(runId)!;
    const label = `run ${run.id}${run.name ? ` “${run.name}”` : ''} of study “${studyName}”`;
    if (run.status === 'running') return `${label} is running: pause or cancel it first`;
    if (options.isStudyActive?.(run.studyId)) return `${label} belongs to a study that is running now: pause or cancel its runs first`;
    if (run.status === 'queued' && repos.runs.list({ studyId: run.studyId }).some((r) => r.status === 'running')) {
      return `${label} is queued behind a running run of its study: cancel it first`;
    }
    return null;
  };

  /** What goes, as ids: study versions and runs. */
  const plan = (kind: DeletionKind, id: number): { name: string; versionIds: number[]; runIds: number[]; examples: number; kept: number[]; modelPath: string | null } => {
    const runsOf = (versionIds: number[]) => versionIds.flatMap((v) => q.runsOfStudy.all(v) as number[]);
    switch (kind) {
      case 'run': {
        if (!q.run.get(id)) throw new StoreError(`run ${id} does not exist`);
        const run = repos.runs.get(id)!;
        return { name: run.name ?? `run ${id}`, versionIds: [], runIds: [id], examples: 0, kept: [], modelPath: null };
      }
      case 'study': {
        const r = studyRow(id);
        if (!r) throw new StoreError(`study ${id} does not exist`);
        const versionIds = (q.versionsOf.all(r.root_id) as StudyRow[]).map((v) => v.id);
        return { name: newest(r.root_id).name, versionIds, runIds: runsOf(versionIds), examples: 0, kept: [], modelPath: null };
      }
      case 'dataset': {
        const d = q.dataset.get(id) as { name: string; examples: number } | undefined;
        if (!d) throw new StoreError(`dataset ${id} does not exist`);
        const versionIds = q.versionsNamingDataset.all(id) as number[];
        const runIds = [...new Set([...(q.runsOfDataset.all(id) as number[]), ...runsOf(versionIds)])].sort((a, b) => a - b);
        return { name: d.name, versionIds, runIds, examples: d.examples, kept: [], modelPath: null };
      }
      case 'model': {
        const m = q.model.get(id) as { path: string; metadata: string } | undefined;
        if (!m) throw new StoreError(`model ${id} does not exist`);
        const display = (JSON.parse(m.metadata) as { displayName?: unknown }).displayName;
        const name = typeof display === 'string' ? display : (m.path.split(/[\\/]/).pop() ?? m.path);
        return { name, versionIds: [], runIds: q.runsOfModel.all(id) as number[], examples: 0, kept: q.versionsNamingModel.all(id) as number[], modelPath: m.path };
      }
    }
  };

  const impact = (kind: DeletionKind, id: number, options: DeletionOptions = {}): DeletionImpact => {
    if (!DELETION_KINDS.includes(kind)) throw new StoreError(`deletion: kind "${kind}" is not one of ${DELETION_KINDS.join('|')}`);
    const p = plan(kind, id);
    const runs: DeletedRun[] = p.runIds.map((runId) => {
      const run = repos.runs.get(runId)!;
      const s = studyRow(run.studyId);
      return { id: run.id, name: run.name, studyId: run.studyId, studyName: s ? newest(s.root_id).name : `study ${run.studyId}`, status: run.status, results: q.results.get(runId) as number };
    });
    const refusals = runs.map((r) => busy(r.id, r.studyName, options)).filter((x): x is string => x !== null);
    // a study (or the studies a dataset takes along) running in the app, even before its runs exist
    for (const v of p.versionIds) {
      const s = studyRow(v)!;
      if (options.isStudyActive?.(v) && !runs.some((r) => r.studyId === v)) refusals.push(`study “${newest(s.root_id).name}” is running now: pause or cancel its runs first`);
    }
    return {
      kind,
      id,
      name: p.name,
      studies: group(p.versionIds),
      runs,
      results: runs.reduce((n, r) => n + r.results, 0),
      examples: p.examples,
      keptStudies: group(p.kept),
      modelPath: p.modelPath,
      refused: refusals.length ? `${kind === 'run' ? (p.name === `run ${id}` ? p.name : `run ${id} “${p.name}”`) : `${kind} “${p.name}”`} cannot be deleted now: ${refusals.join('; ')}` : null,
    };
  };

  /**
   * Deletes study versions; the versions of the same studies that stay keep a parent that stays (the nearest
   * one up the chain, or none) and a root that stays (their oldest one), so the studies' version lists hold.
   */
  const dropVersions = (versionIds: readonly number[]) => {
    const gone = new Set(versionIds);
    const roots = new Set(versionIds.map((v) => studyRow(v)!.root_id));
    for (const rootId of roots) {
      const all = q.versionsOf.all(rootId) as StudyRow[];
      const byId = new Map(all.map((r) => [r.id, r]));
      const stay = all.filter((r) => !gone.has(r.id));
      const newRoot = stay.length ? Math.min(...stay.map((r) => r.id)) : null;
      for (const r of stay) {
        let parent = r.parent_id;
        while (parent !== null && gone.has(parent)) parent = byId.get(parent)?.parent_id ?? null;
        if (parent !== r.parent_id) q.setParent.run(parent, r.id);
        if (gone.has(rootId) && newRoot !== null) q.setRoot.run(newRoot, r.id);
      }
    }
    // newest first: a version's parent and root are older than it
    for (const v of [...gone].sort((a, b) => b - a)) q.delStudy.run(v);
  };

  const deleteTx = writeTransaction(db, 'delete', (kind: DeletionKind, id: number, options: DeletionOptions): DeletionImpact => {
    const found = impact(kind, id, options);
    if (found.refused) throw new StoreError(found.refused);
    const p = plan(kind, id);
    for (const r of found.runs) repos.runs.delete(r.id);
    if (p.versionIds.length) dropVersions(p.versionIds);
    if (kind === 'dataset') repos.datasets.hideForDelete(id);
    if (kind === 'model') q.delModel.run(id);
    return found;
  });

  return {
    impact,
    delete(kind, id, options = {}) {
      const done = deleteTx(kind, id, options);
      // the dataset is gone (hidden) with its runs and studies; its examples follow in chunks
      if (kind === 'dataset') repos.datasets.purgeDeleted(id);
      return done;
    },
  };
}
