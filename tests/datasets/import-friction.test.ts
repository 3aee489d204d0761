import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, DatasetProblems, importFile, importInto, PROBLEM_CAP } from '../../main/datasets/index';
import { estimateTokens, longTexts } from '../../main/datasets/length';
import { previewDataset } from '../../main/datasets/preview';
import { openStore } from '../../main/store';
import { importReport } from '../../main/api/import-summary';
import { analystCsv } from '../gui/journey/context';
import { tempDir } from './helpers';

/**
 * Import friction (issue 12 item 5): every problem of a file at once, named by row and field, with a cap;
 * nothing stored on any error; the language message says what to do where the user is; rationale words as
 * people list them; a dry run for the import form; texts longer than common contexts warned about.
 */
const t = tempDir();
afterAll(() => t.cleanup());

const refusal = (f: () => unknown): DatasetProblems => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetProblems);
    return e as DatasetProblems;
  }
  throw new Error('accepted');
};

describe('every problem of a file at once', () => {
  it('lists each row and field of a CSV with several problems in one refusal, in file order', () => {
    const f = t.file('broken.csv', [
      'id,text,label,rationale',
      'a,Good film,positive,Good',
      'b,,positive,', // text empty
      'c,Bad film,,', // label empty
      'a,Fine film,positive,', // duplicate id
      'd,Dull,negative,0 1', // mask length
      'e,too,few', // field count
      'f,Two problems here,,great', // label and rationale on one row
    ].join('\n') + '\n');
    const e = refusal(() => importFile(f, { format: 'csv', language: 'en' }));
    expect(e.total).toBe(7);
    expect(e.problems.map((p) => [p.row, p.field ?? null])).toEqual([
      [3, 'text'], [4, 'label'], [5, 'id'], [6, 'rationale'], [7, null], [8, 'label'], [8, 'rationale'],
    ]);
    const msg = e.message.replace(`${t.dir}/`, '');
    expect(msg).toMatch(/^broken\.csv: 7 problems: row 3, field "text": is empty; row 4, field "label": is empty; row 5, field "id": duplicate id "a" \(also on row 2\);/);
    expect(msg).toContain('row 7: has 3 fields but the header has 4');
    expect(msg).toContain('row 8, field "rationale": rationale word "great" is not a (remaining) whitespace word of the text');
  });

  it('lists JSONL lines that are not JSON and go on with the rest', () => {
    const f = t.file('broken.jsonl', ['{"text": "ok", "label": "p"}', '{"text": ', '[1]', '{"text": "x", "label": ""}', '{"text": "y", "label": "p"}'].join('\n') + '\n');
    const e = refusal(() => importFile(f, { format: 'jsonl', language: 'en' }));
    expect(e.problems.map((p) => [p.row, p.field ?? null])).toEqual([[2, null], [3, null], [4, 'label']]);
  });

  it(`names the first ${PROBLEM_CAP} and counts the rest`, () => {
    const rows = Array.from({ length: 80 }, (_, i) => `r${i},,p`);
    const f = t.file('many.csv', `id,text,label\n${rows.join('\n')}\n`);
    const e = refusal(() => importFile(f, { format: 'csv', language: 'en' }));
    expect(e.total).toBe(80);
    expect(e.problems).toHaveLength(PROBLEM_CAP);
    expect(e.message).toMatch(/80 problems: row 2, field "text": is empty; .*row 51, field "text": is empty; and 30 more$/);
  });

  it('a quote never closed ends the reading, with the problems found before it', () => {
    const f = t.file('quote.csv', 'text,label\n,p\n"unclosed,p\n');
    const e = refusal(() => importFile(f, { format: 'csv', language: 'en' }));
    expect(e.problems.map((p) => p.row)).toEqual([2, 3]);
    expect(e.message).toContain('row 3: a quoted field is not closed before the end of the file');
  });

  it('stores nothing when any row has a problem (the streamed import included)', () => {
    const db = join(t.dir, 'store.sqlite');
    const store = openStore(db);
    try {
      const f = t.file('late.csv', `id,text,label\n${Array.from({ length: 1200 }, (_, i) => `r${i},text ${i},p`).join('\n')}\nbad,,p\nbad2,x,\n`);
      const e = refusal(() => importInto(f, { format: 'csv', language: 'en' }, (meta) => store.datasets.beginImport(meta)));
      expect(e.total).toBe(2);
      expect(store.datasets.list()).toEqual([]);
      expect(store.db.prepare('SELECT count(*) AS n FROM examples').get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });
});

describe('the language message says what to do where the user is', () => {
  it('names --language on the command line and the Language field in the app', () => {
    const f = t.file('nolang.csv', 'text,label\nGood,p\n');
    expect(() => importFile(f, { format: 'csv' })).toThrow(/no language: add a "language" column or pass --language$/);
    let gui = '';
    try {
      importFile(f, { format: 'csv', where: 'gui' });
    } catch (e) {
      gui = (e as DatasetError).message;
    }
    expect(gui).toMatch(/row 2, field "language": no language: add a "language" column or fill in the Language field of the import form$/);
    expect(gui).not.toContain('--');
    expect(() => importFile(f, { format: 'csv', language: 'English', where: 'gui' })).toThrow(/the Language field "English" is not a language code/);
  });
});

describe('rationale word lists as people write them', () => {
  it('reads ";"-separated words with attached punctuation, and the analyst\'s CSV imports whole', () => {
    const d = importFile(analystCsv(t.dir), { format: 'csv' });
    const marked = (id: string) => {
      const ex = d.examples.find((e) => e.externalId === id)!;
      return ex.words.filter((_, i) => ex.rationaleMask?.[i] === 1).map((w) => w.text);
    };
    expect(marked('a1')).toEqual(['paid', 'months,']);
    expect(marked('a2')).toEqual(['kept', 'passport.']);
    expect(marked('a4')).toEqual(['løn', 'måneder.']);
    expect(marked('a3')).toEqual([]);
    expect(d.labelSet).toEqual(['no', 'yes']);
  });
});

describe('the dry run and long texts', () => {
  it('previews labels, languages and long texts without storing; or every problem of a broken file', () => {
    const ok = previewDataset(analystCsv(t.dir), { format: 'csv' });
    expect(ok).toMatchObject({ examples: 6, labels: { yes: 4, no: 2 }, languages: { en: 4, da: 2 }, problems: [], problemCount: 0 });
    expect(ok.longTexts).toEqual([{ context: 2048, count: 1, ids: ['a6'] }, { context: 4096, count: 1, ids: ['a6'] }]);
    const bad = previewDataset(t.file('p.csv', 'id,text,label\na,,p\nb,x,\nc,ok,q\n'), { format: 'csv', language: 'en' });
    expect(bad).toMatchObject({ examples: 1, problemCount: 2, problems: [{ row: 2, field: 'text', detail: 'is empty' }, { row: 3, field: 'label', detail: 'is empty' }] });
  });

  it('estimates tokens from characters and words, and the import report warns with counts and ids', () => {
    expect(estimateTokens('one two three')).toBe(4); // 13 chars / 4 = 3.25, 3 words x 4/3 = 4
    expect(estimateTokens('x'.repeat(8192))).toBe(2048);
    expect(longTexts([{ externalId: 'a', text: 'x'.repeat(8200) }, { externalId: 'b', text: 'x'.repeat(20000) }])).toEqual([
      { context: 2048, count: 2, ids: ['a', 'b'] },
      { context: 4096, count: 1, ids: ['b'] },
    ]);
    const db = join(t.dir, 'report.sqlite');
    const store = openStore(db);
    try {
      const id = importInto(analystCsv(t.dir), { format: 'csv', labelMap: { yes: 'yes', no: 'no' } }, (meta) => store.datasets.beginImport(meta));
      const ds = store.datasets.get(id)!;
      // the mapping is stored with the dataset; the examples keep their labels as written
      expect(ds.labelMap).toEqual({ yes: 'yes', no: 'no' });
      expect(store.datasets.examples(id).map((e) => e.labels[0])).toEqual(['yes', 'yes', 'no', 'yes', 'no', 'yes']);
      const r = importReport(ds, store.datasets.examples(id));
      expect(r.withRationale).toBe(4);
      expect(r.longTexts).toEqual([{ context: 2048, count: 1, ids: ['a6'] }, { context: 4096, count: 1, ids: ['a6'] }]);
      expect(r.warnings).toContain(
        '1 of 6 texts is longer than about 2,048 tokens (an estimate from characters and words; the exact count depends on the model): a6. ' +
          'A model with a 2,048-token context cannot read it whole: the study form counts exactly and offers to skip or truncate it.',
      );
      // a mapping of labels the file does not have is refused before anything is stored
      expect(() => importInto(analystCsv(t.dir), { format: 'csv', labelMap: { maybe: 'yes' } }, (meta) => store.datasets.beginImport(meta))).toThrow(
        /the label mapping names label the file does not have: "maybe"/,
      );
      expect(store.datasets.list()).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});
