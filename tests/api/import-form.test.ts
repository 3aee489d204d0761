/**
 * The import form and the study form's fit check through the API (issue 12 items 3 and 5), with the engine
 * child process, SQLite files and a generated GGUF (Llama 2 vocabulary and chat template, a 1,024-token
 * context):
 *  - previewDataset: a dry run (nothing stored) listing every problem of a broken file at once with row and
 *    field, or the labels found with the canonical labels they can be mapped to, and the long texts;
 *  - the language error in the app names the import form's Language field, not a command-line flag;
 *  - importDataset stores the label mapping with the dataset (the examples keep their labels); the study
 *    form's validation offers it to the label-mapping editor, kept to what fits the task;
 *  - checkStudyFit lists the examples that will not fit each chosen model's run; a study with them and no
 *    choice is refused at startRun with the list, and runs once a choice is made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetPreviewResult, ImportReport, StudyFit, StudyValidation } from '../../main/api/catalogue';
import { generateModel } from '../../main/gguf/generate';
import { analystCsv } from '../gui/journey/context';
import { ok, tempWorkbench } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'rw-import-form-'));
const MODEL = join(tmp, 'tiny-llama2.gguf');
beforeAll(async () => {
  await generateModel({ path: MODEL, seed: 5, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the import form and the fit check through the API', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());
  let datasetId = 0;
  let modelId = 0;

  it('previewDataset lists every problem of a broken file at once and stores nothing', async () => {
    const bad = t.uploadBytes('broken.csv', 'id,text,label,language\na,,yes,en\nb,Paid late,,en\nc,Kept papers,yes,\nd,ok,no,en\n');
    const p = ok(await t.wb.call('previewDataset', { file: bad, format: 'csv' })) as DatasetPreviewResult;
    expect(p.problemCount).toBe(3);
    expect(p.problems).toEqual([
      { row: 2, field: 'text', detail: 'is empty' },
      { row: 3, field: 'label', detail: 'is empty' },
      // in the app the language error points to the form's field, not to a flag
      { row: 4, field: 'language', detail: 'no language: add a "language" column or fill in the Language field of the import form' },
    ]);
    expect(ok(await t.wb.call('listDatasets', {}))).toEqual([]);
    // importing it is refused with all three, by name (the upload's own name, not our copy's)
    const imp = await t.wb.call('importDataset', { file: bad, format: 'csv' });
    expect(imp.ok).toBe(false);
    if (!imp.ok) expect(imp.error.message).toMatch(/^broken\.csv: 3 problems: row 2, field "text": is empty; row 3, field "label": is empty; row 4, field "language": .*Language field of the import form$/);
  }, 60_000);

  it('previewDataset of the analyst\'s CSV: labels to map, canonical labels, the long text', async () => {
    const file = t.upload(analystCsv(tmp));
    const p = ok(await t.wb.call('previewDataset', { file, format: 'csv' })) as DatasetPreviewResult;
    expect(p).toMatchObject({ examples: 6, labels: { yes: 4, no: 2 }, problemCount: 0 });
    expect(p.canonicalLabels).toEqual(['positive', 'negative', 'yes', 'no', 'supports', 'refutes', 'not-enough-info']);
    expect(p.longTexts.map((l) => [l.context, l.ids])).toEqual([[2048, ['a6']], [4096, ['a6']]]);
    // a mapping to a label that is not canonical is refused, naming it
    const wrong = await t.wb.call('importDataset', { file, format: 'csv', labelMap: { yes: 'ja' } });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error.fields).toEqual({ 'labelMap.yes': expect.stringMatching(/maps to "ja", which is not a canonical label/) });
    const r = ok(await t.wb.call('importDataset', { file, format: 'csv', labelMap: { yes: 'yes', no: 'no' } })) as ImportReport;
    datasetId = r.dataset.id;
    expect(r.dataset.labelMap).toEqual({ yes: 'yes', no: 'no' });
    expect(r.labels).toEqual({ yes: 4, no: 2 });
    expect(r.withRationale).toBe(4);
    expect(r.warnings.some((w) => /^1 of 6 texts is longer than about 4,096 tokens \(an estimate/.test(w))).toBe(true);
  }, 60_000);

  const study = (extra: Record<string, unknown> = {}, task: Record<string, unknown> = {}) => ({
    name: 'wages', task: { kind: 'forced-labour', indicator: 'Withholding of wages', definitions: 'ilo-indicators', ...task }, language: 'en',
    dataset: { id: datasetId }, models: [{ id: modelId, mode: 'scoring' }], seeds: [28], explanations: ['human', 'random'], metrics: ['accuracy'], onlyCorrect: false, ...extra,
  });

  it('the study form starts its label mapping from the dataset\'s', async () => {
    const reg = ok(await t.wb.call('registerModel', { file: t.upload(MODEL) })) as { model: { id: number } };
    modelId = reg.model.id;
    const v = ok(await t.wb.call('validateStudyConfig', { config: study() })) as StudyValidation;
    // bare yes/no need a mapping for forced-labour (protocol/gold.ts): unmapped, and the dataset's is offered
    expect(v.ok).toBe(false);
    expect(v.labels?.unmapped.map((u) => u.value)).toEqual(['yes', 'no']);
    expect(v.datasetLabelMap).toEqual({ yes: 'yes', no: 'no' });
    const mapped = ok(await t.wb.call('validateStudyConfig', { config: study({}, { labelMap: v.datasetLabelMap }) })) as StudyValidation;
    expect(mapped.ok).toBe(true);
    // a sentiment study of the same dataset: yes/no are not its options, nothing is offered
    const senti = ok(await t.wb.call('validateStudyConfig', { config: { ...study(), task: { kind: 'sentiment' } } })) as StudyValidation;
    expect(senti.datasetLabelMap).toBeUndefined();
  }, 60_000);

  it('checkStudyFit lists the text that will not fit; startRun refuses it until a choice is made', async () => {
    const labelMap = { yes: 'yes', no: 'no' };
    const fit = ok(await t.wb.call('checkStudyFit', { config: study({}, { labelMap }) })) as StudyFit;
    expect(fit).toMatchObject({ count: 1, choice: null, ok: false });
    expect(fit.models).toHaveLength(1);
    expect(fit.models[0]).toMatchObject({ modelId, name: 'tiny-llama2.gguf', context: 1024, checked: 6, count: 1 });
    expect(fit.models[0].tooLong).toEqual([{ exampleId: expect.any(Number), externalId: 'a6', tokens: expect.any(Number), promptTokens: expect.any(Number), context: 1024 }]);
    expect(fit.models[0].tooLong[0].tokens).toBeGreaterThan(1024);

    const saved = ok(await t.wb.call('saveStudy', { name: 'wages', config: study({}, { labelMap }) })) as { study: { id: number } };
    const start = await t.wb.call('startRun', { studyId: saved.study.id });
    expect(start.ok).toBe(false);
    if (!start.ok) expect(start.error.message).toMatch(/1 text is too long for tiny-llama2\.gguf's context of 1,024 tokens: a6 \([\d,]+ tokens\); choose what to do with them/);

    const skip = study({ limits: { tooLong: 'skip' } }, { labelMap });
    expect(ok(await t.wb.call('checkStudyFit', { config: skip }))).toMatchObject({ count: 1, choice: 'skip', ok: true });
    const again = ok(await t.wb.call('saveStudy', { name: 'wages skip', config: skip })) as { study: { id: number; config: { limits: { tooLong?: string } } } };
    expect(again.study.config.limits.tooLong).toBe('skip');
    const runs = ok(await t.wb.call('startRun', { studyId: again.study.id })) as { runIds: number[] };
    expect(runs.runIds).toHaveLength(1);
  }, 180_000);
});
