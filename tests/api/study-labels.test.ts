// The API's side of the gold-label rule (protocol/gold.ts): the study form's validation reports the labels
// that map to no option (for its mapping editor), and saveStudy and startRun refuse such a study (not ok,
// every value named), before any run exists. A mapping (task.labelMap) makes it valid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyValidation } from '../../main/api/catalogue';
import type { StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from './helpers';
import { studyConfig } from '../store/helpers';

const CSV = `id,text,label
a1,"Recruiters charged fees that workers must repay from their wages.",yes
a2,"The factory pays wages on time and workers go home freely.",no
a3,"Workers owed the agency a debt that grew every month.",yes
`;

describe('API: gold labels that do not map are refused, with the values', () => {
  const t = tempWorkbench();
  let datasetId = 0;
  const config = (labelMap?: Record<string, string | null>) => ({
    name: 'fl', task: { kind: 'forced-labour', indicator: 'Debt bondage', ...(labelMap ? { labelMap } : {}) }, language: 'en',
    dataset: { id: datasetId }, models: [{ id: 1, mode: 'scoring' }], seeds: [28],
  });

  beforeAll(async () => {
    const file = t.uploadBytes('forced-labour.csv', CSV);
    const r = ok(await t.wb.call('importDataset', { file, format: 'csv', language: 'en' })) as { dataset: { id: number } };
    datasetId = r.dataset.id;
  }, 60_000);
  afterAll(() => t.cleanup());

  it('validateStudyConfig: not ok, with the message at task.labelMap and the values for the editor', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: config() })) as StudyValidation;
    expect(v.ok).toBe(false);
    expect(v.fields['task.labelMap']).toBe('3 of 3 examples have a gold label that maps to none of the options (yes, no): "yes" (2), "no" (1); map each to an option or leave it out');
    expect(v.labels).toMatchObject({ ok: false, count: 3, checked: 3, options: ['yes', 'no'], dataset: { id: datasetId, name: 'forced-labour' } });
    expect(v.labels!.unmapped.map((u) => [u.value, u.count, u.examples.map((e) => e.externalId)])).toEqual([['yes', 2, ['a1', 'a3']], ['no', 1, ['a2']]]);
  });

  it('validateStudyConfig reports the labels as soon as task and dataset are valid, before a model is chosen', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: { ...config(), models: [] } })) as StudyValidation;
    expect(v.ok).toBe(false);
    expect(Object.keys(v.fields).sort()).toEqual(['models', 'task.labelMap']);
    expect(v.labels?.unmapped.map((u) => u.value)).toEqual(['yes', 'no']);
  });

  it('saveStudy: refused (invalid), naming examples and values; nothing stored', async () => {
    const r = await t.wb.call('saveStudy', { name: 'fl', config: config() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid');
    expect(r.error.message).toContain('3 of 3 examples have a gold label that maps to none of the task\'s options (yes, no)');
    expect(r.error.message).toContain('2 examples, 1 (id a1), 3 (id a3)');
    expect(r.error.message).toContain('example 2 (id a2)');
    expect(r.error.fields?.['task.labelMap']).toContain('"yes" (2)');
    expect(ok(await t.wb.call('listStudies', {}))).toEqual([]);
  });

  it('with a mapping: valid, saved', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: config({ yes: 'yes', no: 'no' }) })) as StudyValidation;
    expect(v.ok).toBe(true);
    expect(v.labels).toMatchObject({ ok: true, count: 0, unmapped: [], options: ['yes', 'no'] });
    const s = ok(await t.wb.call('saveStudy', { name: 'fl', config: config({ yes: 'yes', no: 'no' }) })) as { study: StudyRecord };
    expect((s.study.config as { task: { labelMap: unknown } }).task.labelMap).toEqual({ yes: 'yes', no: 'no' });
  });

  it('a mapping target that is not an option is a field error of its own', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: config({ yes: 'Yes', no: 'no' }) })) as StudyValidation;
    expect(v.ok).toBe(false);
    expect(v.fields['task.labelMap.yes']).toContain('not an option of forced-labour (yes, no');
  });

  it('startRun: a stored study whose labels do not map (saved before this check) is refused at once; no run', async () => {
    // stored directly, as an older version of the workbench would have saved it
    const id = t.wb.store.studies.create('old', studyConfig(config()));
    const r = await t.wb.call('startRun', { studyId: id });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid');
    expect(r.error.message).toContain('the study was not run');
    expect(r.error.message).toContain('"yes" does not say which indicator it is about');
    expect(ok(await t.wb.call('listRuns', { studyId: id }))).toEqual([]);
  });
});
