/**
 * The first-run demo, engine side (runs inside the engine process, like every other job): on a
 * fresh workbench it imports the demo datasets, generates and registers the demo model, stores the
 * built-in demo studies (studies/demo-*.json) as ordinary studies over them and runs them one after
 * the other through the same launcher as the GUI's "Start" (so the Run monitor shows, pauses and
 * resumes them like any run), then writes one report over all their runs.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StudyConfig } from '../config/study-schema';
import { registerModel } from '../models/registry';
import { buildReportData } from '../reports/build';
import { renderReportHtml } from '../reports/html';
import { resolveStudies, studyConfigOf } from '../studies/builtins';
import { builtinDatasetId, ensureDemoModel } from '../runner';
import { openStore, type Store } from '../store';
import type { LaunchStudy } from './jobs';

/** The built-in study group the demo runs (every studies/demo-*.json). */
export const DEMO_STUDY_GROUP = 'demo';
export const DEMO_REPORT_TITLE = 'Rationale Workbench demo report';

export interface FirstRunDemoArgs {
  dbFile: string;
  appVersion: string;
  /** Where the report goes: a .pdf (printed here with Chromium) or a .html (the Electron shell prints it). */
  reportFile: string;
}

export type FirstRunDemoResult =
  | { status: 'done'; runIds: number[]; studyIds: number[]; reportFile: string; bytes: number }
  /** A run was paused, stopped or failed before the end: no report (the runs can be resumed in the GUI). */
  | { status: 'incomplete'; runIds: number[]; studyIds: number[]; reason: string };

/**
 * The demo studies as they are stored: the study files' configurations with the dataset named by
 * its stored id and the demo model by its registered id, so they read (and can be edited and
 * re-run from the study form) like studies made in the GUI, which accepts no model paths.
 */
async function storeDemoStudies(store: Store, emit: (e: unknown) => void): Promise<{ studyId: number }[]> {
  const named = resolveStudies(DEMO_STUDY_GROUP);
  let modelId: number | null = null;
  const out: { studyId: number }[] = [];
  for (const s of named) {
    const config: StudyConfig = studyConfigOf(s);
    const models = [];
    for (const m of config.models) {
      if (m.path !== '$RW_DEMO_MODEL') throw new Error(`${s.file}: the demo studies run the generated demo model ($RW_DEMO_MODEL), not ${m.path ?? `model ${m.id}`}`);
      if (modelId === null) modelId = (await registerModel(store, await ensureDemoModel())).id;
      const { path: _path, ...rest } = m;
      models.push({ ...rest, id: modelId });
    }
    const dataset = config.dataset.builtin !== undefined ? { id: builtinDatasetId(store, config.dataset.builtin) } : config.dataset;
    const stored = { ...config, dataset, models };
    const same = store.studies.list().filter((x) => x.name === stored.name && JSON.stringify(x.config) === JSON.stringify(stored)).pop();
    out.push({ studyId: same ? same.id : store.studies.create(stored.name, stored) });
  }
  emit({ type: 'datasets-changed' });
  emit({ type: 'models-changed' });
  return out;
}

export async function firstRunDemo(a: FirstRunDemoArgs, emit: (e: unknown) => void, launch: LaunchStudy): Promise<FirstRunDemoResult> {
  const store = openStore(a.dbFile);
  try {
    const studies = await storeDemoStudies(store, emit);
    const studyIds = studies.map((s) => s.studyId);
    const runIds: number[] = [];
    // One study at a time: the runner already uses every thread it is given inside one evaluation.
    for (const s of studies) {
      const started = launch({ dbFile: a.dbFile, studyId: s.studyId, resume: false, appVersion: a.appVersion }, emit);
      if (!started) return { status: 'incomplete', runIds, studyIds, reason: `study ${s.studyId} was already running` };
      await started.finished;
      const runs = store.runs.list({ studyId: s.studyId });
      runIds.push(...runs.map((r) => r.id));
      const unfinished = runs.find((r) => r.status !== 'done');
      if (!runs.length) return { status: 'incomplete', runIds, studyIds, reason: `study ${s.studyId} stored no run` };
      if (unfinished) {
        return { status: 'incomplete', runIds, studyIds, reason: `run ${unfinished.id} ended ${unfinished.status}${unfinished.error ? `: ${unfinished.error}` : ''}` };
      }
    }
    mkdirSync(dirname(a.reportFile), { recursive: true });
    const html = renderReportHtml(buildReportData(store, runIds, { title: DEMO_REPORT_TITLE }));
    if (a.reportFile.endsWith('.pdf')) {
      // Loaded only here, as in exportRun: playwright-core is a devDependency (browser mode, CLI).
      const { htmlToPdf } = await import('../reports/pdf');
      await htmlToPdf(html, a.reportFile);
    } else writeFileSync(a.reportFile, html);
    return { status: 'done', runIds, studyIds, reportFile: a.reportFile, bytes: statSync(a.reportFile).size };
  } finally {
    store.close();
  }
}
