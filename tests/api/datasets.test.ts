import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport, Page } from '../../main/api/catalogue';
import type { DatasetRecord, StoredExample } from '../../main/store/types';
import { msst, ok, tempWorkbench } from './helpers';

describe('API: datasets over a real store and the engine process', () => {
  const t = tempWorkbench();
  let report: ImportReport;

  beforeAll(async () => {
    const file = t.upload(msst('DK'));
    report = ok(await t.wb.call('importDataset', { file, format: 'msst' })) as ImportReport;
  });
  afterAll(() => t.cleanup());

  it('imports the Danish mSST file from an uploaded copy, with a validation report', () => {
    expect(report.examples).toBe(250);
    expect(report.dataset.exampleCount).toBe(250);
    expect(report.dataset.name).toBe('Multilingual_Interpretability_DK');
    expect(report.languages).toEqual({ da: 250 });
    expect(report.withRationale).toBe(report.dataset.withRationale);
    expect(report.withRationale).toBeGreaterThan(200);
    // mSST carries no labels: the report says so instead of pretending.
    expect(report.withoutLabels).toBe(250);
    expect(report.warnings.join(' ')).toMatch(/250 of 250 examples have no gold label/);
  });

  it('ran the import in the engine child process, not in this one', async () => {
    const pid = t.wb.engine.pid;
    expect(pid).toBeTypeOf('number');
    expect(pid).not.toBe(process.pid);
    const ping = await t.wb.engine.call('ping', undefined as never);
    expect(ping.pid).toBe(pid);
  });

  it('lists datasets and pages through examples with their rationale masks', async () => {
    const list = ok(await t.wb.call('listDatasets', {})) as DatasetRecord[];
    expect(list.map((d) => d.id)).toEqual([report.dataset.id]);
    const page = ok(await t.wb.call('listExamples', { datasetId: report.dataset.id, offset: 10, limit: 5 })) as Page<StoredExample>;
    expect(page.total).toBe(250);
    expect(page.items.map((e) => e.ordinal)).toEqual([10, 11, 12, 13, 14]);
    for (const e of page.items) {
      expect(e.language).toBe('da');
      if (e.rationaleMask) {
        expect(e.rationaleMask.length).toBe(e.words.length);
        // Each character span covers exactly the words marked 1 (text sliced back from the stored text).
        const marked = e.words.filter((_, i) => e.rationaleMask![i] === 1).map((w) => w.text);
        // Spans may leave out punctuation glued to a word ("spoofs," -> "spoofs"): each lies inside the marked words.
        for (const s of e.rationaleSpans) expect(marked.join(' ')).toContain(e.text.slice(s.start, s.end));
        expect(e.rationaleSpans.length).toBeGreaterThan(0);
      }
    }
    const one = ok(await t.wb.call('getExample', { exampleId: page.items[0].id })) as StoredExample;
    expect(one.text).toBe(page.items[0].text);
  });

  it('refuses a malformed file with a message naming it, and leaves the store unchanged', async () => {
    const before = (ok(await t.wb.call('listDatasets', {})) as DatasetRecord[]).length;
    const bad = t.uploadBytes('broken.jsonl', '{"text": "fine", "label": "positive"}\n{"text": 42}\n');
    const env = await t.wb.call('importDataset', { file: bad, format: 'jsonl', language: 'en' });
    expect(env.ok).toBe(false);
    if (env.ok) return;
    expect(env.error.code).toBe('invalid');
    // The message names the user's file, not the server's copy of the upload.
    expect(env.error.message).toMatch(/^broken\.jsonl: /);
    expect(env.error.message).not.toMatch(/uploads/);
    expect(env.error.message).toMatch(/row 2/);
    expect((ok(await t.wb.call('listDatasets', {})) as DatasetRecord[]).length).toBe(before);
  });

  it('validates every argument and never takes a path from the caller', async () => {
    const env = await t.wb.call('importDataset', { file: '/etc/passwd', format: 'msst' });
    expect(env.ok).toBe(false);
    if (!env.ok) {
      expect(env.error.code).toBe('invalid');
      expect(env.error.fields?.file).toMatch(/file handle/);
    }
    const extra = await t.wb.call('importDataset', { file: 'a'.repeat(32), format: 'msst', path: '/etc/passwd' });
    expect(extra.ok).toBe(false);
    if (!extra.ok) expect(extra.error.message).toMatch(/path/);
    const fmt = await t.wb.call('importDataset', { file: 'a'.repeat(32), format: 'xls' });
    expect(fmt.ok).toBe(false);
    if (!fmt.ok) expect(Object.keys(fmt.error.fields ?? {})).toEqual(['format']);
    const unknownHandle = await t.wb.call('importDataset', { file: 'b'.repeat(32), format: 'msst' });
    expect(unknownHandle.ok).toBe(false);
    if (!unknownHandle.ok) expect(unknownHandle.error.code).toBe('not_found');
    const noMethod = await t.wb.call('deleteEverything', {});
    expect(noMethod.ok).toBe(false);
    const badPage = await t.wb.call('listExamples', { datasetId: report.dataset.id, limit: 100000 });
    expect(badPage.ok).toBe(false);
    if (!badPage.ok) expect(badPage.error.fields?.limit).toBeDefined();
  });
});
