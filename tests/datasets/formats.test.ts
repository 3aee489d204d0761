import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, importFile, splitWords, type ParsedExample } from '../../main/datasets/index';
import { ILO_INDICATORS, RAFOLA_ORDER } from '../../main/protocol/indicators';
import { parseCsv } from '../../main/datasets/csv';
import { FIXTURES, SHARED, tempDir } from './helpers';

const fx = (name: string) => path.join(FIXTURES, name);
const spanTexts = (e: ParsedExample) => e.rationaleSpans.map((s) => e.text.slice(s.start, s.end));
const selected = (e: ParsedExample) => e.words.filter((_, i) => e.rationaleMask![i] === 1).map((w) => w.text);

describe('splitWords', () => {
  it('splits on any whitespace and keeps punctuation and offsets', () => {
    expect(splitWords('  A lovely,\tlovely\u00a0film.\n')).toEqual([
      { start: 2, end: 3, text: 'A' },
      { start: 4, end: 11, text: 'lovely,' },
      { start: 12, end: 18, text: 'lovely' },
      { start: 19, end: 24, text: 'film.' },
    ]);
    expect(splitWords('')).toEqual([]);
    expect(splitWords('Æblegrød 😀 ok')).toEqual([
      { start: 0, end: 8, text: 'Æblegrød' },
      { start: 9, end: 11, text: '😀' },
      { start: 12, end: 14, text: 'ok' },
    ]);
  });
});

describe('RaFoLa JSON', () => {
  const d = importFile(fx('rafola-mini.json'), { format: 'rafola' });

  it('indicator names match ../shared/data/rafola/definitions.json (RaFoLa order); the label set is in ILO order', () => {
    const defs = JSON.parse(readFileSync(path.join(SHARED, 'data/rafola/definitions.json'), 'utf8')) as { label: string }[];
    expect([...RAFOLA_ORDER]).toEqual(defs.map((x) => x.label));
    expect(d.labelSet).toEqual([...ILO_INDICATORS]);
  });

  it('turns the label vector into indicator names and snippets into labelled spans', () => {
    expect(d.examples.map((e) => e.externalId)).toEqual(['101', '102', '103']);
    expect(d.language).toBe('en');
    const [a, b, c] = d.examples;
    // names listed in ILO order (the vector's positions are RaFoLa's alphabetical order); spans carry the
    // indicator's name (header "02. ..." is RaFoLa's number 2 = abusive working and living conditions)
    expect(a.labels).toEqual(['Physical and sexual violence', 'Retention of identity documents', 'Abusive working and living conditions', 'Excessive overtime']);
    expect(a.rationaleSpans.map((s) => [s.label, a.text.slice(s.start, s.end)])).toEqual([
      ['Abusive working and living conditions', 'worked 20 hours a day'],
      ['Excessive overtime', 'worked 20 hours a day'],
      ['Physical and sexual violence', 'were beaten when they asked to rest'],
      ['Retention of identity documents', 'Their passports had been taken by the captain'],
    ]);
    expect(a.rationaleSpans[0]).toMatchObject({ start: 80, end: 101 }); // counted by hand: "Officials said ... they " is 80 characters
    expect(selected(a)).toEqual('worked 20 hours a day were beaten when they asked to rest. Their passports had been taken by the captain'.split(' '));
    expect(a.meta).toMatchObject({ title: 'Fishing crews rescued off the coast', set: 'train', labelVector: [0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0] });

    expect(b.labels).toEqual(['Abuse of vulnerability', 'Withholding of wages', 'Debt bondage']);
    // The debt snippet has one space where the content has two: matched with whitespace runs loose.
    expect(b.rationaleSpans.map((s) => [s.label, b.text.slice(s.start, s.end)])).toEqual([
      ['Abuse of vulnerability', 'could not speak the local language'],
      ['Withholding of wages', 'had not been paid for six months'],
      ['Debt bondage', 'and  were told they owed money for their travel'],
    ]);
    // A snippet that is the title is kept against the title, not the text.
    expect(b.meta!.titleRationales).toEqual([{ start: 0, end: 39, label: 'Withholding of wages' }]);

    expect(c.labels).toEqual([]);
    expect(c.rationaleMask).toBeNull();
    expect(c.rationaleSpans).toEqual([]);
    expect(c.text).toBe('The harbour museum opened its doors on Saturday, showing boats from three centuries. Entry is free for children.');
  });

  it('refuses a snippet that is not in the article, bad labels, bad group headers', () => {
    const t = tempDir();
    try {
      const base = JSON.parse(readFileSync(fx('rafola-mini.json'), 'utf8'));
      const write = (name: string, mutate: (x: any) => void) => {
        const copy = structuredClone(base);
        mutate(copy);
        return t.file(name, JSON.stringify(copy));
      };
      const f1 = write('snip.json', (x) => x[1].rationales[0].push('invented words'));
      expect(() => importFile(f1, { format: 'rafola' })).toThrow(`${f1}: row 2, field "rationales": group 1 (Abuse of vulnerability), snippet 2 "invented words" occurs neither in the content nor in the title`);
      const f2 = write('labels.json', (x) => (x[0].labels = [0, 1]));
      expect(() => importFile(f2, { format: 'rafola' })).toThrow(/row 1, field "labels": expected a list of 11 zeros and ones, got a list of 2/);
      const f3 = write('head.json', (x) => (x[0].rationales[0][0] = '12. Something'));
      expect(() => importFile(f3, { format: 'rafola' })).toThrow(/row 1, field "rationales": group 1: header "12. Something" does not start with an indicator number 01-11/);
      const f4 = write('content.json', (x) => (x[2].content = 42));
      expect(() => importFile(f4, { format: 'rafola' })).toThrow(/row 3, field "content": expected a string, got number 42/);
      const f5 = t.file('obj.json', '{"index": 1}');
      expect(() => importFile(f5, { format: 'rafola' })).toThrow(/expected a JSON list of articles, got an object/);
      const f6 = t.file('trunc.json', readFileSync(fx('rafola-mini.json'), 'utf8').slice(0, 300));
      expect(() => importFile(f6, { format: 'rafola' })).toThrow(/trunc\.json: not valid JSON/);
    } finally {
      t.cleanup();
    }
  });
});

describe('Climate-FEVER rows', () => {
  const d = importFile(fx('climate-fever-mini.jsonl'), { format: 'climate-fever' });

  it('builds claim + evidence text, per-word annotator values and a majority-positive mask', () => {
    expect(d.labelSet).toEqual(['SUPPORTS', 'REFUTES', 'NOT_ENOUGH_INFO']);
    const [a, b, c] = d.examples;
    expect(a.text).toBe('Sea levels are rising.\nGlobal mean sea level has risen about 20 cm since 1900.');
    expect(a.labels).toEqual(['SUPPORTS']);
    expect(a.meta!.evidence).toEqual({ start: 23, end: 78 });
    // sea: a1,a2 (+1) ; level: all three ; risen: all three ; has: a2 only ; about/20/cm: a3 only.
    expect(selected(a)).toEqual(['sea', 'level', 'risen']);
    expect(a.annotators!.map((x) => x.annotator)).toEqual(['a1', 'a2', 'a3']);
    // 4 claim words, then the 11 evidence words ("1900." = tokens "1900" + ".").
    expect(a.annotators![2].values).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0]);
    // Annotators as a list of lists, default tokens = whitespace words of the evidence.
    expect(b.annotators!.map((x) => x.annotator)).toEqual(['1', '2', '3']);
    expect(b.annotators![2].values).toEqual([0, 0, 0, 0, 0, 0, -1, 0, 0, 1, -1, 0, 0]);
    expect(selected(b)).toEqual(['ice', 'declined']); // "ice": +1,+1,-1 -> 2 of 3 ; "sharply": +1,-1 -> 1 of 3
    expect(spanTexts(b)).toEqual(['ice', 'declined']);
    expect(b.rationaleSpans[0].start).toBe('Arctic ice is growing.\nArctic sea '.length);
    expect(c.externalId).toBe('3');
    expect(c.rationaleMask).toEqual(new Array(c.words.length).fill(0));
  });

  it('refuses wrong annotation lengths, bad values, labels and tokens', () => {
    const t = tempDir();
    try {
      const row = { claim: 'A b.', evidence: 'C d e.', label: 'SUPPORTS', annotations: { x: [1, 0, 0] } };
      expect(importFile(t.file('fine.jsonl', `${JSON.stringify(row)}\n`), { format: 'climate-fever' }).examples[0].rationaleMask).toEqual([0, 0, 1, 0, 0]);
      const f = (name: string, r: object) => t.file(name, `${JSON.stringify(r)}\n`);
      expect(() => importFile(f('len.jsonl', { ...row, annotations: { x: [1, 0] } }), { format: 'climate-fever' })).toThrow(/len\.jsonl: row 1, field "annotations": annotator x has 2 values but there are 3 tokens/);
      const okRow = { ...row, annotations: { x: [1, 0, 2] } };
      expect(() => importFile(f('val.jsonl', okRow), { format: 'climate-fever' })).toThrow(/row 1, field "annotations": annotator x, value 3 is 2; expected 1, 0 or -1/);
      expect(() => importFile(f('lab.jsonl', { ...row, label: 'DISPUTED' }), { format: 'climate-fever' })).toThrow(/field "label": "DISPUTED" is not one of SUPPORTS, REFUTES, NOT_ENOUGH_INFO/);
      expect(() => importFile(f('tok.jsonl', { ...row, tokens: ['C', 'x', 'e.'] }), { format: 'climate-fever' })).toThrow(/field "tokens": token 2 "x" does not continue the evidence at character 2/);
      expect(() => importFile(f('cl.jsonl', { ...row, claim: 7 }), { format: 'climate-fever' })).toThrow(/field "claim": expected a string, got number 7/);
    } finally {
      t.cleanup();
    }
  });
});

describe('generic CSV', () => {
  const d = importFile(fx('sentiment-mini.csv'), { format: 'csv' });

  it('reads BOM, quotes, doubled quotes, embedded newlines; each rationale form', () => {
    expect(d.name).toBe('sentiment-mini');
    expect(d.language).toBeNull(); // mixed languages
    expect(d.labelSet).toEqual(['negative', 'positive']);
    const [s1, s2, s3, s4] = d.examples;
    expect(s1.externalId).toBe('s1'); // the BOM is not part of the "id" header
    expect(s1.text).toBe('A warm, funny film.');
    expect(selected(s1)).toEqual(['warm,', 'funny']);
    expect(s2.text).toBe('Dull and "slow" , sadly.');
    expect(selected(s2)).toEqual(['Dull', 'sadly.']);
    expect(s3.text).toBe('En varm,  sjov film.');
    expect(s3.language).toBe('da');
    expect(spanTexts(s3)).toEqual(['varm', 'sjov']);
    expect(s3.rationaleMask).toEqual([0, 1, 1, 0]);
    expect(s4.text).toBe('Un film\nlento.');
    expect(s4.rationaleMask).toBeNull();
    expect(s4.meta).toEqual({ source: 'hand' });
  });

  it('parses RFC 4180 edge cases', () => {
    expect(parseCsv('a,b\r\n"x, ""y""",\r\n\r\n"",z')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, "y"', ''] },
      { line: 4, fields: ['', 'z'] },
    ]);
    expect(() => parseCsv('a,b\n"open,1\n')).toThrow(/not closed/);
    expect(() => parseCsv('a,b\n"x"y,1\n')).toThrow(/after a closing quote/);
  });
});

describe('generic JSONL', () => {
  it('keeps text byte for byte, accepts masks, word lists, span objects, numeric labels', () => {
    const d = importFile(fx('sentiment-mini.jsonl'), { format: 'jsonl', name: 'demo' });
    expect(d.name).toBe('demo');
    const [j1, j2, j3, j4] = d.examples;
    expect(j1.text).toBe('  A lovely, lovely film. ');
    expect(spanTexts(j1)).toEqual(['lovely,', 'lovely']);
    expect(j1.rationaleSpans.map((s) => [s.start, s.end])).toEqual([[4, 11], [12, 18]]);
    expect(selected(j2)).toEqual(['noioso.']);
    expect(j3.externalId).toBe('3');
    expect(j3.labels).toEqual(['positive']);
    expect(spanTexts(j3)).toEqual(['mesterværk']);
    expect(j3.rationaleMask).toEqual([0, 1]);
    expect(j3.meta).toEqual({ note: 'spans' });
    expect(j4.externalId).toBe('5'); // line number (line 3 is blank)
    expect(j4.labels).toEqual(['0']);
    expect(j4.rationaleMask).toBeNull();
    expect(d.labelSet).toEqual(['0', 'negative', 'positive']);
  });
});

describe('rationale word lists: attached punctuation', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  it('a listed word marks the text word with punctuation around it when nothing matches exactly; exact words win', () => {
    const rows = [
      { id: 'a', text: 'Paid after three months, if at all.', label: 'yes', rationale: ['months', 'all'] },
      // Italian with guillemets; the exact "noioso" (second) wins over the punctuated first one
      { id: 'b', text: '«noioso.» Davvero noioso', label: 'negative', rationale: ['noioso'] },
      { id: 'c', text: 'Kept "passports" (all of them).', label: 'yes', rationale: ['"passports"', 'them'] },
    ];
    const d = importFile(t.file('punct.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n'), { format: 'jsonl', language: 'en' });
    expect(selected(d.examples[0])).toEqual(['months,', 'all.']);
    expect(selected(d.examples[1])).toEqual(['noioso']);
    expect(selected(d.examples[2])).toEqual(['"passports"', 'them).']);
  });

  it('a word that is not in the text is still refused with row and field', () => {
    const f = t.file('absent.jsonl', JSON.stringify({ id: 'a', text: 'Paid after months.', label: 'yes', rationale: ['weeks'] }) + '\n');
    expect(() => importFile(f, { format: 'jsonl', language: 'en' })).toThrow(/row 1, field "rationale".*weeks/);
  });
});

describe('malformed CSV/JSONL input is refused with file, row and field', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  const fail = (name: string, content: string | Uint8Array, format: 'csv' | 'jsonl', language: string | null = 'en') => {
    const f = t.file(name, content);
    try {
      importFile(f, { format, language: language ?? undefined });
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      return (e as Error).message.replace(`${t.dir}/`, '');
    }
    throw new Error(`${name} was accepted`);
  };

  it('mask length, bad row, missing column, wrong type, non-UTF-8, empty, invalid span', () => {
    const hdr = 'id,text,label,rationale\n';
    const rows = Array.from({ length: 5 }, (_, i) => `r${i},Good film,positive,1 0`).join('\n');
    expect(fail('data.csv', `${hdr}${rows}\nr6,One two three four five six,negative,0 1 1 0 0\n`, 'csv')).toBe(
      'data.csv: row 7, field "rationale": mask has 5 entries but the text has 6 words',
    );
    expect(fail('fields.csv', `${hdr}a,Good film,positive\n`, 'csv')).toBe('fields.csv: row 2: has 3 fields but the header has 4');
    expect(fail('nolabel.csv', 'id,text,rationale\na,Good film,1 0\n', 'csv')).toBe('nolabel.csv: row 1: missing column "label" (the header has: "id", "text", "rationale")');
    expect(fail('nolabel.jsonl', '{"text": "Good film"}\n', 'jsonl')).toBe('nolabel.jsonl: row 1, field "label": missing');
    expect(fail('type.jsonl', '{"text": "ok", "label": "p"}\n{"text": 5, "label": "p"}\n', 'jsonl')).toBe('type.jsonl: row 2, field "text": expected a string, got number 5');
    expect(fail('rtype.jsonl', '{"text": "ok go", "label": "p", "rationale": {"a": 1}}\n', 'jsonl')).toBe(
      'rtype.jsonl: row 1, field "rationale": expected a word mask, a list of words or a list of [start, end] spans, got an object',
    );
    expect(fail('mask2.jsonl', '{"text": "ok go", "label": "p", "rationale": [0, 2]}\n', 'jsonl')).toBe('mask2.jsonl: row 1, field "rationale": mask entry 2 is 2; a mask holds only 0 and 1');
    expect(fail('json.jsonl', '{"text": "ok", "label": "p"}\n{"text": "ok", \n', 'jsonl')).toMatch(/^json\.jsonl: row 2: not valid JSON/);
    expect(fail('span.csv', 'text,label,rationale\nGood film,p,"[[5,20]]"\n', 'csv')).toBe('span.csv: row 2, field "rationale": span 1: span [5, 20] lies outside the text (length 9)');
    expect(fail('span2.csv', 'text,label,rationale\nGood film,p,"[[4,2]]"\n', 'csv')).toBe('span2.csv: row 2, field "rationale": span 1: span [4, 2] is empty or reversed (start must be < end)');
    expect(fail('word.csv', 'text,label,rationale\nGood film,p,"[""great""]"\n', 'csv')).toBe('word.csv: row 2, field "rationale": rationale word "great" is not a (remaining) whitespace word of the text');
    expect(fail('dupid.csv', 'id,text,label\na,x,p\na,y,p\n', 'csv')).toBe('dupid.csv: row 3, field "id": duplicate id "a" (also on row 2)');
    expect(fail('lang.csv', 'text,label\nGood,p\n', 'csv', null)).toBe('lang.csv: row 2, field "language": no language: add a "language" column or pass --language');
    expect(fail('latin1.csv', Buffer.concat([Buffer.from('text,label\nGod film p', 'utf8'), Buffer.from([0xe5]), Buffer.from(',p\n')]), 'csv')).toBe(
      'latin1.csv: not valid UTF-8 (first bad byte at offset 21); save the file as UTF-8',
    );
    expect(fail('empty.csv', '', 'csv')).toBe('empty.csv: the file is empty');
    expect(fail('blank.jsonl', '\n  \n', 'jsonl')).toBe('blank.jsonl: the file is empty (only whitespace)');
    expect(fail('hdronly.csv', 'text,label\n', 'csv')).toBe('hdronly.csv: the file has a header but no rows');
    expect(fail('quote.csv', 'text,label\n"unclosed,p\n', 'csv')).toBe('quote.csv: row 2: a quoted field is not closed before the end of the file');
    expect(fail('emptytext.csv', 'text,label\n,p\n', 'csv')).toBe('emptytext.csv: row 2, field "text": is empty');
  });

  it('options are checked: format, language code, --labels only for msst', () => {
    const f = t.file('ok.csv', 'text,label\nGood,p\n');
    expect(() => importFile(f, { format: 'tsv' as never })).toThrow(/unknown format "tsv"/);
    expect(() => importFile(f, { format: 'csv', language: 'English' })).toThrow(/--language "English" is not a language code/);
    expect(() => importFile(f, { format: 'csv', language: 'en', labelsFile: f })).toThrow(/--labels is only for the msst format/);
    expect(importFile(f, { format: 'csv', language: 'en' }).examples[0].language).toBe('en');
  });
});
