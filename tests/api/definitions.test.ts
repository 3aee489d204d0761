/**
 * One source of indicator definitions (issue 10 item 3):
 *  - the GUI's prompt preview and the CLI's `predict` give the model the same definition for the same
 *    indicator (they differed for indicator 11: the CLI read RaFoLa's wording from ../shared, the GUI the
 *    project's own);
 *  - a definitions file chosen in the GUI (a handle) is read once, by the one loader, and the study stores
 *    its text, which the preview then shows;
 *  - a run records the definitions it ran with: the stored study holds the exact text, the run its hash,
 *    and the prompt tokens the model was given contain that text.
 * Real parts: a generated llama GGUF with the Llama 2 vocabulary and chat template, SQLite files, the engine
 * child process, RaFoLa's definitions.json from ../shared.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptPreview, StudyValidation } from '../../main/api/catalogue';
import { importFile } from '../../main/datasets/index';
import { generateModel } from '../../main/gguf/generate';
import { builtinDefinitions, readDefinitionsFile } from '../../main/protocol/indicator-definitions';
import { namedStudy } from '../../main/studies/builtins';
import { runStudies } from '../../main/runner';
import { openStore } from '../../main/store';
import type { StudyRecord } from '../../main/store/types';
import { cliInProcess } from '../fixtures/cli-in-process';
import { ok, shared, tempWorkbench } from './helpers';

const RAFOLA_DEFS = join(shared, 'data/rafola/definitions.json');
const TEXT = 'Dockworkers said they were kept on shift for eighteen hours a day, seven days a week.';
const tmp = mkdtempSync(join(tmpdir(), 'rw-defs-api-'));
const MODEL = join(tmp, 'tiny-llama2.gguf');
const OWN = builtinDefinitions('ilo-indicators')!.indicators[10].definition; // Excessive overtime, our wording
const RAFOLA = readDefinitionsFile(RAFOLA_DEFS).indicators[10].definition; // RaFoLa's wording

beforeAll(async () => {
  await generateModel({ path: MODEL, seed: 5, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('indicator definitions: one source for the GUI and the CLI', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());
  let modelId: number;
  let datasetId: number;
  let exampleId: number;

  beforeAll(async () => {
    const data = t.uploadBytes('articles.jsonl', `${JSON.stringify({ id: 'a1', text: TEXT, label: 'Excessive overtime' })}\n`);
    datasetId = (ok(await t.wb.call('importDataset', { file: data, format: 'jsonl', language: 'en' })) as { dataset: { id: number } }).dataset.id;
    exampleId = (ok(await t.wb.call('listExamples', { datasetId })) as { items: { id: number }[] }).items[0].id;
    // as the Electron dialog does: the chosen file's path registered as a handle
    modelId = (ok(await t.wb.call('registerModel', { file: t.wb.files.registerPath(MODEL).handle })) as { model: { id: number } }).model.id;
  }, 60_000);

  const config = (task: object) => ({ name: 'overtime', task: { kind: 'forced-labour', ...task }, dataset: { id: datasetId }, models: [{ id: modelId, mode: 'scoring' }] });
  const preview = async (task: object) => ok(await t.wb.call('previewPrompt', { config: config(task), modelId, exampleId })) as PromptPreview;

  it('indicator 11: the GUI preview and `predict --task forced-labour --indicator 11` give the same prompt, with the built-in definition', async () => {
    expect(OWN).not.toBe(RAFOLA);
    const gui = await preview({ indicator: 11 });
    const cli = await cliInProcess(['predict', '--model', MODEL, '--task', 'forced-labour', '--indicator', '11', '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    expect(cli.err).toBe('');
    expect(cli.code).toBe(0);
    const out = JSON.parse(cli.out) as { prompt: string };
    expect(out.prompt).toBe(gui.prompt);
    expect(gui.prompt).toContain(`"Excessive overtime"? Definition: ${OWN}`);
    expect(gui.prompt).not.toContain(RAFOLA);
    // by name, the same
    const byName = await cliInProcess(['predict', '--model', MODEL, '--task', 'forced-labour', '--indicator', 'excessive overtime', '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    expect((JSON.parse(byName.out) as { prompt: string }).prompt).toBe(gui.prompt);
    // and with RaFoLa's file: --definitions in the CLI, the same file chosen in the GUI (a handle)
    const cliRafola = await cliInProcess(['predict', '--model', MODEL, '--task', 'forced-labour', '--indicator', '11', '--definitions', RAFOLA_DEFS, '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    const guiRafola = await preview({ indicator: 11, definitions: { handle: t.upload(RAFOLA_DEFS) } });
    expect((JSON.parse(cliRafola.out) as { prompt: string }).prompt).toBe(guiRafola.prompt);
    expect(guiRafola.prompt).toContain(`"Excessive overtime"? Definition: ${RAFOLA}`);
  }, 120_000);

  it('a definitions file chosen in the GUI is stored as its text: the study, not a path, carries it', async () => {
    const handle = t.upload(RAFOLA_DEFS);
    const v = ok(await t.wb.call('validateStudyConfig', { config: config({ indicator: 'Excessive overtime', definitions: { handle } }) })) as StudyValidation;
    expect(v.ok).toBe(true);
    const saved = ok(await t.wb.call('saveStudy', { name: 'overtime', config: config({ indicator: 'Excessive overtime', definitions: { handle } }) })) as { study: StudyRecord };
    const defs = (saved.study.config as { task: { definitions: unknown } }).task.definitions;
    expect(defs).toEqual({ ...readDefinitionsFile(RAFOLA_DEFS), name: 'definitions.json' });
    expect(JSON.stringify(saved.study.config)).not.toMatch(/uploads|shared/);
    // the stored study previews (and re-saves) with its recorded text, the handle long gone
    t.wb.files.dispose();
    const again = await preview({ indicator: 11, definitions: defs });
    expect(again.prompt).toContain(RAFOLA);
  });
});

describe('a run records the definitions text it ran with', () => {
  it('the stored study holds the text, the run its hash, the prompt the words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-defs-run-'));
    const data = join(dir, 'a.jsonl');
    writeFileSync(data, `${JSON.stringify({ id: 'a1', language: 'en', text: TEXT, label: 'Excessive overtime', rationale: ['eighteen', 'hours'] })}\n`);
    const db = join(dir, 'db.sqlite');
    const store = openStore(db);
    try {
      const datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
      // a study file naming RaFoLa's definitions by path (the CLI may): read where the study file is read
      const studyFile = join(dir, 'overtime.json');
      const raw = {
        name: 'overtime', task: { kind: 'forced-labour', indicator: 11, definitions: RAFOLA_DEFS }, dataset: { id: datasetId },
        models: [{ path: MODEL, mode: 'scoring' }], seeds: [28], explanations: ['human'], metrics: ['accuracy'], onlyCorrect: false,
      };
      writeFileSync(studyFile, JSON.stringify(raw));
      const [report] = await runStudies(store, [namedStudy('overtime', studyFile, JSON.parse(readFileSync(studyFile, 'utf8')))], { threads: 2, log: () => {} });
      const run = store.runs.get(report.runs[0].runId)!;
      expect(run.status).toBe('done');
      const expected = readDefinitionsFile(RAFOLA_DEFS);
      const study = store.studies.get(run.studyId)!;
      expect(study.config.task.definitions).toEqual({ ...expected, name: 'definitions.json' });
      expect(JSON.stringify(study.config)).not.toContain(RAFOLA_DEFS);
      expect(run.timings.indicatorDefinitions).toEqual({ source: 'file', name: 'definitions.json', sha256: expected.sha256 });
      const [result] = store.results.list(run.id, { relevance: false });
      expect(result.tokens!.map((x) => x.text).join('')).toContain(`Definition: ${RAFOLA}`);
    } finally {
      store.close();
    }
  }, 120_000);
});
