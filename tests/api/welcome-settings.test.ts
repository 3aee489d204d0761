/**
 * The welcome screen's and the Settings screen's API (issue 12 items 9 and 13), over a real SQLite file:
 *   - firstRunStatus: the user's own runs apart from the first-run demo's (the stored studies named as the
 *     built-in demo studies), the demo's progress summed over its runs, and its report once written;
 *   - demoReport: the report as a download handle, never a path; refused (not_found) before it exists;
 *   - getSettings / saveSettings: the stored settings and what applies, every problem at once with its
 *     field, the data directory refused from browser mode (taken from a dialog's handle in the desktop app,
 *     applied at the next start and said so); a saved study takes the settings where it sets no limits.
 */
import { TEMPLATE_FAMILIES } from '../../main/protocol/template-families';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FirstRunStatus, SettingsView } from '../../main/api/catalogue';
import { demoReportPath, demoStudyNames } from '../../main/api/first-run';
import { Workbench } from '../../main/api/service';
import { maxThreads } from '../../main/models/session-threads';
import type { StudyRecord } from '../../main/store/types';
import { dataset, example, minimalConfig } from '../store/helpers';
import { ok } from './helpers';

const root = mkdtempSync(join(tmpdir(), 'rw-welcome-api-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function workbench(name: string, mode: 'browser' | 'electron' = 'browser') {
  const dir = join(root, name);
  mkdirSync(dir);
  // the desktop app's data directory by default (not one given on a command line, which the next command line decides)
  const source = mode === 'electron' ? { dataDirSource: 'default' as const } : {};
  return new Workbench({ dbFile: join(dir, 'wb.sqlite'), dataDir: join(dir, 'data'), mode, version: 'test', settingsFile: join(dir, 'config', 'settings.json'), ...source });
}

describe('firstRunStatus and demoReport', () => {
  it('counts the demo’s runs apart from the user’s own, sums its progress, and hands out its report by handle', async () => {
    const wb = workbench('first-run');
    try {
      const { store } = wb;
      const d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
      const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
      let s = ok(await wb.call('firstRunStatus', {})) as FirstRunStatus;
      const studies = demoStudyNames().size;
      expect(s).toEqual({ ownRuns: 0, demo: { state: 'none', studyIds: [], runIds: [], done: 0, total: 0, studies, fraction: 0, report: false } });
      // a demo study (stored under a built-in demo study's name, as first-run-demo.ts does) with two runs
      const demoName = [...demoStudyNames()][0];
      const demoStudy = store.studies.create(demoName, { ...minimalConfig(d, m), name: demoName });
      const r1 = store.runs.create({ studyId: demoStudy, modelId: m, datasetId: d, seed: 1, appVersion: 't', total: 4 });
      const r2 = store.runs.create({ studyId: demoStudy, modelId: m, datasetId: d, seed: 2, appVersion: 't', total: 6 });
      store.runs.setProgress(r1, 4);
      store.runs.setProgress(r2, 1);
      s = ok(await wb.call('firstRunStatus', {})) as FirstRunStatus;
      expect(s.ownRuns).toBe(0);
      expect(s.demo).toMatchObject({ state: 'incomplete', studyIds: [demoStudy], runIds: [r1, r2], done: 5, total: 10, report: false });
      // two runs' parts done (4/4 and 1/6) over the demo's studies
      expect(s.demo.fraction).toBeCloseTo((1 + 1 / 6) / studies, 12);
      const refused = await wb.call('demoReport', {});
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.code).toBe('not_found');
      // the report written: done, and downloadable by a handle (not a path)
      mkdirSync(join(wb.options.dataDir, 'reports'), { recursive: true });
      writeFileSync(demoReportPath(wb.options.dataDir), '%PDF-1.4 demo');
      s = ok(await wb.call('firstRunStatus', {})) as FirstRunStatus;
      expect(s.demo.state).toBe('done');
      expect(s.demo.report).toBe(true);
      const rep = ok(await wb.call('demoReport', {})) as { name: string; bytes: number; download: string };
      expect(rep).toEqual({ name: 'demo-report.pdf', bytes: 13, download: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(wb.files.get(rep.download)!.path).toBe(demoReportPath(wb.options.dataDir));
      // a run of the user's own study counts as hers
      const own = store.studies.create('mine', minimalConfig(d, m));
      store.runs.create({ studyId: own, modelId: m, datasetId: d, seed: 1, appVersion: 't', total: 1 });
      expect((ok(await wb.call('firstRunStatus', {})) as FirstRunStatus).ownRuns).toBe(1);
    } finally {
      wb.close();
    }
  });
});

describe('getSettings and saveSettings', () => {
  it('shows the defaults, saves valid values, refuses every bad one at once with its field', async () => {
    const wb = workbench('settings');
    try {
      let v = ok(await wb.call('getSettings', {})) as SettingsView;
      expect(v.settings).toEqual({ contextSize: null, threads: null, dataDir: null });
      expect(v.effective).toEqual({ contextSize: 3000, threads: 2, dataDir: wb.options.dataDir });
      expect(v.dataDirEditable).toBe(false);
      expect(v.threadsMax).toBe(maxThreads());
      const bad = await wb.call('saveSettings', { contextSize: 0, threads: maxThreads() + 1 });
      expect(bad.ok).toBe(false);
      if (!bad.ok) {
        expect(bad.error.code).toBe('invalid');
        expect(Object.keys(bad.error.fields ?? {}).sort()).toEqual(['contextSize', 'threads']);
      }
      const saved = ok(await wb.call('saveSettings', { contextSize: 1024, threads: 1 })) as SettingsView & { restartNeeded: boolean; message: string };
      expect(saved.restartNeeded).toBe(false);
      expect(saved.effective).toMatchObject({ contextSize: 1024, threads: 1 });
      v = ok(await wb.call('getSettings', {})) as SettingsView;
      expect(v.settings).toEqual({ contextSize: 1024, threads: 1, dataDir: null });
      // browser mode never takes a data directory
      const handle = wb.files.registerPath(root).handle;
      const dirRefused = await wb.call('saveSettings', { contextSize: null, threads: null, dataDir: handle });
      expect(dirRefused.ok).toBe(false);
      if (!dirRefused.ok) expect(dirRefused.error.fields).toEqual({ dataDir: 'not changed from browser mode' });
      // a new study without limits of its own takes the settings; one with its own keeps them
      const d = wb.store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
      const m = wb.store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
      // a study is saved only with a model that has a usable chat template (issue 12 item 1): choose one for it
      wb.store.models.setTemplate(m, { family: 'llama2', template: TEMPLATE_FAMILIES.find((f) => f.id === 'llama2')!.template });
      const base = { task: { kind: 'sentiment' }, dataset: { id: d }, models: [{ id: m }] };
      const a = (ok(await wb.call('saveStudy', { name: 'a', config: base })) as { study: StudyRecord }).study;
      expect(a.config).toMatchObject({ limits: { maxContextTokens: 1024, threads: 1 } });
      const b = (ok(await wb.call('saveStudy', { name: 'b', config: { ...base, limits: { threads: 2, maxContextTokens: 2000 } } })) as { study: StudyRecord }).study;
      expect(b.config).toMatchObject({ limits: { maxContextTokens: 2000, threads: 2 } });
    } finally {
      wb.close();
    }
  });

  it('desktop: a directory from the dialog (a handle) is checked, saved, and applies at the next start', async () => {
    const wb = workbench('desktop', 'electron');
    try {
      const file = join(root, 'desktop', 'a-file');
      writeFileSync(file, 'x');
      const notDir = await wb.call('saveSettings', { contextSize: null, threads: null, dataDir: wb.files.registerPath(file).handle });
      expect(notDir.ok).toBe(false);
      if (!notDir.ok) expect(notDir.error.fields).toEqual({ dataDir: `${file} exists and is not a directory` });
      const target = join(root, 'desktop', 'new-data');
      mkdirSync(target);
      const r = ok(await wb.call('saveSettings', { contextSize: null, threads: null, dataDir: wb.files.registerPath(target).handle })) as SettingsView & { restartNeeded: boolean; message: string };
      expect(r.settings.dataDir).toBe(target);
      expect(r.restartNeeded).toBe(true);
      expect(r.pendingDataDir).toBe(target);
      expect(r.effective.dataDir).toBe(wb.options.dataDir);
      expect(r.message).toBe(`Saved. The data directory changes to ${target} when the app starts again; until then it stays ${wb.options.dataDir}.`);
      expect(r.dataDirEditable).toBe(true);
    } finally {
      wb.close();
    }
  });
});
