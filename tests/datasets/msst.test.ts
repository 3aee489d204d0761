import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, importFile, type ParsedDataset, type ParsedExample } from '../../main/datasets/index';
import { buildXlsx, MSST, tempDir } from './helpers';

const data: Record<string, ParsedDataset> = {
  EN: importFile(MSST('EN'), { format: 'msst' }),
  DK: importFile(MSST('DK'), { format: 'msst' }),
  IT: importFile(MSST('IT'), { format: 'msst' }),
};
const byId = (lang: string, id: string): ParsedExample => {
  const e = data[lang].examples.find((x) => x.externalId === id);
  if (!e) throw new Error(`no example ${id} in ${lang}`);
  return e;
};
const selectedWords = (e: ParsedExample) => e.words.filter((_, i) => e.rationaleMask![i] === 1).map((w) => w.text);
const spanTexts = (e: ParsedExample) => e.rationaleSpans.map((s) => e.text.slice(s.start, s.end));

/** The raw sharedStrings.xml of a file, read straight from the zip (not through our reader). */
const rawSharedStrings = (lang: 'EN' | 'DK' | 'IT') => Buffer.from(unzipSync(readFileSync(MSST(lang)))['xl/sharedStrings.xml']);
/**
 * Column values per data row, read from the raw sheet and sharedStrings XML with regular expressions
 * (these files hold only plain <si><t> strings), independent of the importer's XML and XLSX code.
 */
function rawColumn(lang: 'EN' | 'DK' | 'IT', column: string): string[] {
  const files = unzipSync(readFileSync(MSST(lang)));
  const dec = (x: string) => x.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const strings = [...Buffer.from(files['xl/sharedStrings.xml']).toString('utf8').matchAll(/<si><t>([^<]*)<\/t><\/si>/g)].map((m) => dec(m[1]));
  const sheet = Buffer.from(files['xl/worksheets/sheet1.xml']).toString('utf8');
  const rows = [...sheet.matchAll(/<row [^>]*>(.*?)<\/row>/g)].map((r) => {
    const cells: Record<string, string> = {};
    for (const c of r[1].matchAll(/<c r="([A-Z]+)\d+"[^>]*?t="s"[^>]*><v>(\d+)<\/v><\/c>/g)) cells[c[1]] = strings[Number(c[2])];
    return cells;
  });
  const col = Object.entries(rows[0]).find(([, v]) => v === column)![0];
  return rows.slice(1).filter((r) => r[col] !== undefined).map((r) => r[col]);
}

describe('mSST import (real files from ../shared/data/msst)', () => {
  it('gives 250 examples per language, with language from the sheet name and no labels', () => {
    for (const [lang, code] of [['EN', 'en'], ['DK', 'da'], ['IT', 'it']] as const) {
      const d = data[lang];
      expect(d.examples).toHaveLength(250);
      expect(d.format).toBe('msst');
      expect(d.language).toBe(code);
      expect(d.labelSet).toEqual([]);
      expect(new Set(d.examples.map((e) => e.externalId)).size).toBe(250);
      for (const e of d.examples) {
        expect(e.language).toBe(code);
        expect(e.labels).toEqual([]);
        expect(e.rationaleMask).toHaveLength(e.words.length);
      }
      expect(d.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // The blank rows that pad the DK and IT sheets (to row 1000) are skipped, not imported or refused.
    expect(data.DK.examples.at(-1)!.externalId).toBe('1095');
    expect(data.IT.examples.at(-1)!.externalId).toBe('1095');
  });

  it('English: words and rationale words are exactly the Span tokens (whole file)', () => {
    const spans = rawColumn('EN', 'Span');
    expect(spans).toHaveLength(250);
    data.EN.examples.forEach((e, i) => {
      const toks = spans[i].split('|').map((t) => /^(.*)\(([01])\)$/.exec(t)!);
      expect(e.words.map((w) => w.text)).toEqual(toks.map((m) => m[1]));
      expect(e.rationaleMask).toEqual(toks.map((m) => Number(m[2])));
      expect(spanTexts(e)).toEqual(toks.filter((m) => m[2] === '1').map((m) => m[1]));
    });
  });

  it('spot checks by ID, read by hand from the files', () => {
    // EN ID 0: "It 's a lovely film with lovely performances by Buy and Accorsi ."
    expect(selectedWords(byId('EN', '0'))).toEqual(['lovely', 'film', 'with', 'lovely', 'performances']);
    expect(byId('EN', '0').meta!.wordRanks).toEqual([0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    // EN ID 7: "Dazzles with its fully-written characters , its determined stylishness ( ... best soundtrack in years ."
    expect(selectedWords(byId('EN', '7'))).toEqual(['fully-written', 'characters', 'determined', 'stylishness', 'best', 'soundtrack']);
    // DK ID 3: "En varm, sjov, engagerende film." Span En(0)|varm(1)|,(0)|sjov(1)|,(0)|engagerende(1)|film(0)|.(0)
    const dk3 = byId('DK', '3');
    expect(dk3.text).toBe('En varm, sjov, engagerende film.');
    expect(dk3.words.map((w) => w.text)).toEqual(['En', 'varm,', 'sjov,', 'engagerende', 'film.']);
    expect(dk3.rationaleMask).toEqual([0, 1, 1, 1, 0]);
    expect(spanTexts(dk3)).toEqual(['varm', 'sjov', 'engagerende']);
    expect(dk3.rationaleSpans.map((s) => [s.start, s.end])).toEqual([[3, 7], [9, 13], [15, 26]]);
    // Rank En(0)|varm(3)|,(0)|sjov(1)|,(0)|engagerende(2)|film(0)|.(0)
    expect(dk3.meta!.wordRanks).toEqual([0, 3, 1, 2, 0]);
    // IT ID 3: "Un film caldo, divertente, coinvolgente." ranks caldo 3, divertente 2, coinvolgente 1
    const it3 = byId('IT', '3');
    expect(it3.rationaleMask).toEqual([0, 0, 1, 1, 1]);
    expect(spanTexts(it3)).toEqual(['caldo', 'divertente', 'coinvolgente']);
    expect(it3.meta!.wordRanks).toEqual([0, 0, 3, 2, 1]);
    expect(it3.meta!.original).toBe('A warm , funny , engaging film .');
  });

  it('aligns the three rows whose tokens differ from the sentence', () => {
    // DK 610: sentence has `Swimfan` (back-ticks), tokens have ' Swimfan ' (2 substitutions).
    const dk610 = byId('DK', '610');
    expect(dk610.meta!.alignmentEdits).toBe(2);
    expect(selectedWords(dk610)).toEqual(['unødvendig', 'og', 'klodset', 'meget', 'dårlig', 'følelse.']);
    expect(spanTexts(dk610)).toEqual(['unødvendig', 'og', 'klodset', 'meget', 'dårlig', 'følelse']);
    // IT 670: sentence says "sfoza", token says "sforza" (1 edit); the rationale is unaffected.
    const it670 = byId('IT', '670');
    expect(it670.meta!.alignmentEdits).toBe(1);
    expect(selectedWords(it670)).toEqual(['Quasi', 'insopportabile...', 'deprimente', 'prosaica', 'e', 'noiosa.']);
    expect(spanTexts(it670)).toEqual(['Quasi', 'insopportabile', 'deprimente', 'prosaica', 'e', 'noiosa']);
    // DK 229: the tokens drop the sentence's final full stop (1 edit).
    expect(byId('DK', '229').meta!.alignmentEdits).toBe(1);
    // Every other row aligns exactly.
    const withEdits = Object.entries(data).flatMap(([l, d]) => d.examples.filter((e) => e.meta!.alignmentEdits).map((e) => `${l}${e.externalId}`));
    expect(withEdits.sort()).toEqual(['DK229', 'DK610', 'IT670']);
  });

  it('every Span token with value 1 lies inside a rationale word, and token counts match the Span cells', () => {
    for (const lang of ['DK', 'IT'] as const) {
      const spans = rawColumn(lang, 'Span');
      expect(spans).toHaveLength(250);
      data[lang].examples.forEach((e, i) => {
        const toks = spans[i].split('|');
        const meta = e.meta!.spanTokens as { text: string; rationale: number; start: number | null; end: number | null }[];
        expect(meta.map((t) => `${t.text}(${t.rationale})`)).toEqual(toks);
        // Total selected tokens = number of spans.
        expect(e.rationaleSpans).toHaveLength(meta.filter((t) => t.rationale === 1).length);
      });
    }
    // Mean rationale words per sentence: SOURCES.md says "about 4.7".
    const mean = data.EN.examples.reduce((s, e) => s + e.rationaleMask!.reduce((a, b) => a + b, 0), 0) / 250;
    expect(mean).toBeCloseTo(4.72, 2);
  });

  it('Danish and Italian text survives byte for byte (compared with the raw XML string values)', () => {
    for (const lang of ['EN', 'DK', 'IT'] as const) {
      const raw = rawSharedStrings(lang);
      expect(data[lang].examples.map((e) => e.text)).toEqual(rawColumn(lang, 'Sentence'));
      for (const e of data[lang].examples) {
        const escaped = e.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        expect(raw.includes(Buffer.from(`<t>${escaped}</t>`, 'utf8')), `${lang} ${e.externalId}`).toBe(true);
      }
    }
    expect(byId('DK', '610').text).toBe('På grund af en unødvendig og klodset sidste scene efterlod `Swimfan` mig en meget dårlig følelse.');
    expect(byId('IT', '0').text).toBe('È un bel film con belle interpretazioni di Buy e Accorsi.');
    expect(Buffer.from(byId('IT', '0').text, 'utf8').subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x88])); // precomposed È
  });
});

describe('mSST labels file and language option', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('applies an id,label file matched by ID ("3" and "3.0" both match ID cell 3.0)', () => {
    const ids = data.EN.examples.map((e) => e.externalId);
    const rows = ids.map((id, i) => `${i % 2 ? `${id}.0` : id},${i % 3 === 0 ? 'negative' : 'positive'}`);
    const f = t.file('labels.csv', `id,label\n${rows.join('\n')}\n`);
    const d = importFile(MSST('EN'), { format: 'msst', labelsFile: f });
    expect(d.labelSet).toEqual(['negative', 'positive']);
    expect(d.examples[0].labels).toEqual(['negative']);
    expect(d.examples[1].labels).toEqual(['positive']);
    expect(d.examples[3].labels).toEqual(['negative']);
  });

  it('refuses a labels file with an unknown ID, a missing example, or a duplicate', () => {
    const ids = data.EN.examples.map((e) => e.externalId);
    const all = ids.map((id) => `${id},positive`);
    const unknown = t.file('unknown.csv', `id,label\n${[...all, '99999,negative'].join('\n')}\n`);
    expect(() => importFile(MSST('EN'), { format: 'msst', labelsFile: unknown })).toThrow(/unknown\.csv: row 252, field "id": id "99999" is not in the dataset/);
    const missing = t.file('missing.csv', `id,label\n${all.slice(1).join('\n')}\n`);
    expect(() => importFile(MSST('EN'), { format: 'msst', labelsFile: missing })).toThrow(/missing\.csv: 1 example has no label \(ids 0\)/);
    const dup = t.file('dup.csv', `id,label\n${[...all, '0.0,negative'].join('\n')}\n`);
    expect(() => importFile(MSST('EN'), { format: 'msst', labelsFile: dup })).toThrow(/dup\.csv: row 252, field "id": duplicate id "0" \(also on row 2\)/);
    const noHeader = t.file('nohdr.csv', `0,positive\n`);
    expect(() => importFile(MSST('EN'), { format: 'msst', labelsFile: noHeader })).toThrow(/missing column "id"/);
  });

  it('--language overrides the sheet name; an unknown sheet name needs --language', () => {
    expect(importFile(MSST('DK'), { format: 'msst', language: 'no' }).examples[0].language).toBe('no');
    const f = t.file('mystery.xlsx', buildXlsx('Sheet1', [['ID', 'Sentence', 'Span'], [1, 'Good film', 'Good(1)|film(0)']]));
    expect(() => importFile(f, { format: 'msst' })).toThrow(/cannot tell the language .* pass --language/);
    const d = importFile(f, { format: 'msst', language: 'en' });
    expect(d.examples[0].rationaleMask).toEqual([1, 0]);
  });
});

describe('mSST malformed files are refused with file, row and field', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  const errOf = (f: string): DatasetError => {
    try {
      importFile(f, { format: 'msst', language: 'en' });
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      return e as DatasetError;
    }
    throw new Error('import did not fail');
  };

  it('reads shared strings and inline strings alike, and skips blank rows', () => {
    const rows = [['ID', 'Sentence', 'Span', 'Rank'], [5, 'Bad & "sad"', 'Bad(1)|&(0)|"sad"(1)', 'Bad(2)|&(0)|"sad"(1)'], [null, null, null], ['', '', ''], [6, 'Fine.', 'Fine(1)|.(0)', 'Fine(1)|.(0)']];
    for (const shared of [false, true]) {
      const f = t.file(`ok-${shared}.xlsx`, buildXlsx('EN_test', rows, { shared }));
      const d = importFile(f, { format: 'msst' });
      expect(d.language).toBe('en');
      expect(d.examples.map((e) => e.externalId)).toEqual(['5', '6']);
      expect(d.examples[0].text).toBe('Bad & "sad"');
      expect(d.examples[0].rationaleMask).toEqual([1, 0, 1]);
      expect(d.examples[0].meta!.wordRanks).toEqual([2, 0, 1]);
      expect(d.examples[1].words.map((w) => w.text)).toEqual(['Fine.']);
      expect(d.examples[1].rationaleMask).toEqual([1]);
      expect(spanTexts(d.examples[1])).toEqual(['Fine']);
    }
  });

  it('missing column', () => {
    const f = t.file('nospan.xlsx', buildXlsx('EN_x', [['ID', 'Sentence', 'Rank'], [1, 'Good film', 'Good(1)|film(0)']]));
    expect(errOf(f).message).toBe(`${f}: sheet "EN_x", row 1: missing column "Span" (the header has: "ID", "Sentence", "Rank")`);
  });

  it('bad row: Span value other than 0/1, unreadable Span, empty sentence, duplicate ID, tokens unrelated to the sentence', () => {
    const mk = (name: string, row: (string | number | null)[]) => t.file(name, buildXlsx('EN_x', [['ID', 'Sentence', 'Span'], [1, 'Good film', 'Good(1)|film(0)'], row]));
    expect(errOf(mk('v2.xlsx', [2, 'Bad film', 'Bad(2)|film(0)'])).message).toMatch(/v2\.xlsx: row 3, field "Span": token 1 "Bad" has value 2; expected 0 or 1/);
    expect(errOf(mk('garbled.xlsx', [2, 'Bad film', 'Bad|film'])).message).toMatch(/garbled\.xlsx: row 3, field "Span": cannot read token 1/);
    expect(errOf(mk('nosent.xlsx', [2, null, 'Bad(1)|film(0)'])).message).toMatch(/nosent\.xlsx: row 3, field "Sentence": is empty \(cell B3\)/);
    expect(errOf(mk('dup.xlsx', [1, 'Bad film', 'Bad(1)|film(0)'])).message).toMatch(/dup\.xlsx: row 3, field "ID": duplicate ID 1 \(also on row 2\)/);
    expect(errOf(mk('other.xlsx', [2, 'Bad film', 'A(1)|completely(0)|different(0)|sentence(0)'])).message).toMatch(/other\.xlsx: row 3, field "Span": the tokens do not match the sentence/);
    const rank = t.file('rank.xlsx', buildXlsx('EN_x', [['ID', 'Sentence', 'Span', 'Rank'], [1, 'Good film', 'Good(1)|film(0)', 'Good(1)|movie(0)']]));
    expect(errOf(rank).message).toMatch(/rank\.xlsx: row 2, field "Rank": lists 2 tokens that differ from the 2 tokens of Span/);
  });

  it('truncated, empty, non-zip and header-only files', () => {
    const bytes = readFileSync(MSST('EN'));
    expect(errOf(t.file('trunc.xlsx', bytes.subarray(0, Math.floor(bytes.length / 2)))).message).toMatch(/trunc\.xlsx: not a readable \.xlsx \(zip\) file/);
    expect(errOf(t.file('empty.xlsx', new Uint8Array(0))).message).toMatch(/empty\.xlsx: the file is empty/);
    expect(errOf(t.file('text.xlsx', 'ID,Sentence,Span\n1,a,a(1)\n')).message).toMatch(/text\.xlsx: not a readable \.xlsx \(zip\) file/);
    expect(errOf(t.file('hdr.xlsx', buildXlsx('EN_x', [['ID', 'Sentence', 'Span']]))).message).toMatch(/hdr\.xlsx: sheet "EN_x" has a header but no rows/);
    expect(errOf('/nonexistent/file.xlsx').message).toBe('/nonexistent/file.xlsx: file not found');
  });
});
