import { describe, it, expect } from 'vitest';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import {
  readPaperFile,
  listPaperRunFiles,
  evaluateWordLevel,
  parseAnswer,
  paperNormalizeResponse,
  paperNormalize,
  paperOverlapMask,
  paperGoldPhrases,
  paperAlignToRawWords,
  paperItems,
  paperFixSyntax,
  robustItems,
  parsePythonLiteral,
  parsePythonJson,
  toPlain,
  PyDict,
  PyTuple,
} from '../../main/importers/paper';
import { alignSelfExplanation, spansToMask } from '../../main/protocol/align';
import { splitWords } from '../../main/datasets/words';

const sst = path.resolve(__dirname, '../../..', 'shared', 'data', 'paper-responses', 'sst');
const run = (model: string, seed = '28') => listPaperRunFiles(path.join(sst, model, 'oracle', seed));
const round2 = (x: number) => Math.round(x * 100) / 100;

describe('Python-literal parser', () => {
  it('parses dict/list/tuple/str/int/float/True/False/None', () => {
    const v = parsePythonLiteral("{'a': [1, -2.5e1, True, None], \"b\": (1,), 'c': (), 'd': ('x', False)}");
    expect(toPlain(v)).toEqual({ a: [1, -25, true, null], b: [1], c: [], d: ['x', false] });
    expect((v as PyDict).get('b')).toBeInstanceOf(PyTuple);
    expect(parsePythonLiteral('(1)')).toBe(1); // parenthesised, not a tuple
    expect(toPlain(parsePythonLiteral('1, 2'))).toEqual([1, 2]); // bare top-level tuple
    expect(parsePythonLiteral("'a' \"b\"")).toBe('ab'); // adjacent literals concatenate
    expect(parsePythonLiteral("'it\\'s \\u00e9\\n'")).toBe("it's é\n");
    expect(parsePythonLiteral("r'\\d'")).toBe('\\d');
    expect(parsePythonLiteral("'\\q'")).toBe('\\q'); // unknown escape kept
    expect(toPlain(parsePythonLiteral('[1, # comment\n 2,]'))).toEqual([1, 2]);
    expect(parsePythonLiteral('0x1f')).toBe(31);
    expect(parsePythonLiteral('1_000')).toBe(1000);
    expect(parsePythonLiteral('.5')).toBe(0.5);
    expect(parsePythonLiteral('\n[1]\n')).toEqual([1]);
  });
  it('fails where Python eval fails', () => {
    for (const bad of ['true', '[1]\n\n[2]', '"a\nb"', '[1, 2', "{'a': 1", 'Sure! [1]', '  \n  [1]', '1abc', '{[1]: 2}']) {
      expect(() => parsePythonLiteral(bad), bad).toThrow();
    }
  });
  it('JSON mode and numpy-ish values', () => {
    expect(toPlain(parsePythonLiteral('[true, null, NaN, -Infinity]', { json: true }))).toEqual([true, null, Number.NaN, Number.NEGATIVE_INFINITY]);
    expect(toPlain(parsePythonLiteral("[np.float32(0.5), array([1, 2], dtype=float32), float('nan')]", { numpy: true }))).toEqual([0.5, [1, 2], Number.NaN]);
    expect(() => parsePythonLiteral('np.float32(0.5)')).toThrow(/not defined/);
    expect(parsePythonJson('{"a": [NaN, 1]}')).toEqual({ a: [Number.NaN, 1] });
  });
});

describe('answer parsing', () => {
  it('our parser keeps invalid answers invalid', () => {
    expect(parseAnswer('(a) This review is overall rather positive')).toBe('positive');
    expect(parseAnswer(' b) negative')).toBe('negative');
    expect(parseAnswer('Answer: (b)')).toBe('negative');
    // letters used as bullets: the option wording decides
    expect(parseAnswer("I would say the review is overall rather positive. Here's why:\n(a) ...\n(b) ...")).toBe('positive');
    expect(parseAnswer('It is (b).')).toBe('negative');
    expect(parseAnswer('I cannot decide.')).toBe('invalid');
    expect(parseAnswer('Both (a) and (b) apply')).toBe('invalid');
  });
  it("the paper's normaliser sends every unparsable answer to negative (always-true branch)", () => {
    expect(paperNormalizeResponse('(a) yes')).toBe(1);
    expect(paperNormalizeResponse('I cannot decide.')).toBe(0);
    expect(paperNormalizeResponse('rather positive. (a) ... (b) ...')).toBe(0);
    expect(paperNormalizeResponse('[/INST] (a)')).toBe(1); // prefix removed
  });
});

describe("the paper's matching rule", () => {
  it('normalises like re.sub(r"\\W+", " ", lower).strip()', () => {
    expect(paperNormalize("The movie's -- plot!")).toBe('the movie s plot');
    expect(paperNormalize('Ça_va, très bien')).toBe('ça_va très bien');
  });
  it('substring match, first occurrence, partial words marked whole', () => {
    // normalised text: "the actor acts well" -> words the|actor|acts|well
    // "act" first occurs inside "actor" (offset 4) -> marks "actor" only
    expect(paperOverlapMask('The actor acts well.', 'act')).toEqual([0, 1, 0, 0]);
    // "or act" spans the end of "actor" and the start of "acts"
    expect(paperOverlapMask('The actor acts well.', 'or act')).toEqual([0, 1, 1, 0]);
    expect(paperOverlapMask('The actor acts well.', 'Well!')).toEqual([0, 0, 0, 1]);
    expect(paperOverlapMask('The actor acts well.', 'badly')).toBeNull();
    // an item that normalises to "" matches at offset 0 and marks the first word
    expect(paperOverlapMask('The actor acts well.', '...')).toEqual([1, 0, 0, 0]);
  });
  it('gold phrases are contiguous runs; empty gold is an error (IndexError there)', () => {
    expect(paperGoldPhrases([1, 1, 0, 1], ['a', 'b', 'c', 'd'])).toEqual(['a b', 'd']);
    expect(() => paperGoldPhrases([0, 0], ['a', 'b'])).toThrow(/no gold/);
  });
  it('maps normalised words back to raw words by summing pieces; "--" gets 0', () => {
    // raw: "The" "movie's" "--" "plot" -> normalised: the | movie s | (none) | plot
    expect(paperAlignToRawWords(['The', "movie's", '--', 'plot'], [1, 0, 1, 1])).toEqual([1, 1, 0, 1]);
    expect(paperAlignToRawWords(['The', "movie's", '--', 'plot'], [0, 1, 1, 0])).toEqual([0, 2, 0, 0]);
    expect(() => paperAlignToRawWords(['a', 'b'], [1])).toThrow(/run out/);
  });
});

// The importer's robust rule is the workbench's one matching module (main/protocol/align.ts); these are the
// importer's cases on it. (Its own copy, robustMatch, is gone.)
describe('the robust matching rule', () => {
  const robust = (text: string, items: string[]) => {
    const al = alignSelfExplanation(text, items, { rule: 'robust' });
    return { ...al, mask: spansToMask(splitWords(text), al.matched) };
  };
  it('splits comma-joined items, ignores case (and accents only as a reported fallback), whole words, reports unmatched', () => {
    const m = robust('Un film très émouvant , mais trop long', ['TRES emouvant, trop long', 'act', 'film']);
    // "tres emouvant" -> words 2,3; "trop long" -> 6,7; "film" -> 1; "act" matches no whole word
    expect(m.mask).toEqual([0, 1, 1, 1, 0, 0, 1, 1]);
    expect(m.unmatched).toEqual(['act']);
    expect(m.matched.map((x) => x.item)).toEqual(['TRES emouvant', 'trop long', 'film']);
    // "TRES emouvant" has no exact occurrence: it matched with accents ignored, and says so
    expect(m.accentFolded).toEqual(['TRES emouvant']);
  });
  it('a repeated item marks the next occurrence', () => {
    expect(robust('good and good', ['good', 'good']).mask).toEqual([1, 0, 1]);
    expect(robust('good and good', ['good']).mask).toEqual([1, 0, 0]);
  });
  it('extracts items from repaired, misspelled and unparsable outputs', () => {
    expect(robustItems({ rationales_checked: '[{"rationales": ["a", "b"]}, {"rationale": "c"}]' }).items).toEqual(['a', 'b', 'c']);
    expect(robustItems({ rationales: 'Sure! Here:\n[\n{"rationales": "x"},\n{"rationales": "y"}' }).items).toEqual(['x', 'y']);
    expect(robustItems({ rationales: 'Sure! {"rationales": "x"} and "rationales": "y" // note' }).source).toBe('scan');
    expect(robustItems({}).items).toEqual([]);
  });
});

describe("the paper's self-explanation extraction", () => {
  it('fixes by slicing [ .. ] and falls back to the raw field', () => {
    expect(paperFixSyntax('Sure! [1, 2] done')).toBe('[1, 2]');
    expect(paperFixSyntax('[{"a": 1}')).toBe('[{"a": 1}]');
    const st = {};
    const r = paperItems({ rationales_checked: 'Sure! [\n{"rationales": "good"},\n{"rationale": "fine"}' }, st);
    expect(r).toMatchObject({ ok: true, items: ['good', 'fine'], fixed: true });
  });
  it('re-uses the previous value for an element without a rationales key (stale variable)', () => {
    const st = {};
    const r = paperItems({ rationales: "[{'rationales': 'blast'}, {'ratalises': 'entire'}]" }, st);
    expect(r).toMatchObject({ ok: true, items: ['blast', 'blast'] });
    // the stale value persists into the next example
    expect(paperItems({ rationales: "[{'other': 1}]" }, st)).toMatchObject({ ok: true, items: ['blast'] });
    expect(paperItems({ rationales: "[{'other': 1}]" }, {})).toMatchObject({ ok: false });
  });
  it('skips an example on a list element without text (KeyError), counts non-string values', () => {
    expect(paperItems({ rationales_checked: "[{'rationales': [{'rationale': 'x'}]}]" }, {})).toMatchObject({ ok: false, reason: 'KeyError', itemSkips: 1 });
    expect(paperItems({ rationales_checked: "[{'rationales': 3}, {'rationales': 'ok'}]" }, {})).toMatchObject({ ok: true, items: ['ok'], itemSkips: 1 });
    // a list of plain strings: each string is eval'ed again -> NameError -> example skipped
    expect(paperItems({ rationales_checked: "['good', 'bad']" }, {})).toMatchObject({ ok: false, reason: 'SyntaxError' });
  });
});

describe('published figures, seed 28, word level, paper matching rule', () => {
  // Authors' evaluation (SOURCES.md): accuracy %, F1, kappa, recall, n explained, skipped
  const cases = [
    { model: 'llama', acc: 86.31, f1: 0.65, kappa: 0.56, recall: 0.61, n: 221, skipped: 6 },
    { model: 'mistral', acc: 98.48, f1: 0.66, kappa: 0.53, recall: 0.71, n: 257, skipped: 2 },
    { model: 'mixtral', acc: 98.1, f1: 0.35, kappa: 0.31, recall: 0.36, n: 254, skipped: 4 },
  ];
  // The published figures are the paper's convention for invalid answers (summary.paperConvention); the
  // workbench's rule (an answer its parser cannot read is never correct and its self-explanation is not
  // scored) gives the same figures wherever a run has no invalid answer: Mistral and Mixtral here.
  for (const c of cases) {
    it(`${c.model}: ${c.acc} %, F1 ${c.f1}, kappa ${c.kappa}, recall ${c.recall}, n ${c.n}, skipped ${c.skipped}`, () => {
      const files = run(c.model);
      expect(files).toHaveLength(1);
      const recs = readPaperFile(files[0]);
      expect(recs).toHaveLength(263);
      const s = evaluateWordLevel(recs, 'paper');
      const pc = s.paperConvention;
      expect(round2(pc.accuracy)).toBe(c.acc);
      expect(round2(pc.plausibility!.f1)).toBe(c.f1);
      expect(round2(pc.plausibility!.kappa)).toBe(c.kappa);
      expect(round2(pc.plausibility!.recall)).toBe(c.recall);
      expect(pc.plausibility!.n).toBe(c.n);
      expect(s.skipped).toBe(c.skipped);
      if (c.model !== 'llama') {
        expect(s.invalidAnswers).toBe(0);
        const p = pc.plausibility!;
        expect([s.accuracy, s.n, s.f1, s.kappa, s.recall]).toEqual([pc.accuracy, p.n, p.f1, p.kappa, p.recall]);
      }
    });
  }
  it("Llama-2 under the workbench's rule: the refusal (line 108) is invalid, not correct, and not scored: 226/263 = 85.93 %, n 220", () => {
    const recs = readPaperFile(run('llama')[0]);
    const s = evaluateWordLevel(recs, 'paper');
    const pc = s.paperConvention;
    // re-derived by hand from the published-convention figures: the one refusal was counted correct
    // (its gold label is negative, the paper's always-true branch read it as negative) and scored
    const refusal = s.examples.find((e) => e.line === 107)!;
    expect(refusal).toMatchObject({ prediction: 'invalid', paperPrediction: 'negative', label: 'invalid', correct: false, paperCorrect: true, explained: true });
    expect(s.correct).toBe(pc.correct - 1);
    expect(s.correct).toBe(226);
    expect(round2(s.accuracy)).toBe(85.93);
    expect(s.n).toBe(pc.plausibility!.n - 1);
    // the mean over 220 = (221 × mean over 221 - the refusal's value) / 220
    for (const k of ['f1', 'recall', 'precision'] as const) expect(s[k]).toBeCloseTo((221 * pc.plausibility![k] - refusal[k]!) / 220, 12);
    expect(s.kappa).toBeCloseTo((221 * pc.plausibility!.kappa - refusal.kappa!) / 220, 12); // no undefined kappa in either
    expect([round2(s.f1), round2(s.kappa), round2(s.recall)]).toEqual([0.65, 0.56, 0.61]);
  });
  it('Llama-2: 227 correct = 221 scored + 6 skipped under the paper convention; the robust rule scores the 226 valid explained answers; our parser disagrees with the paper on 30 answers', () => {
    const recs = readPaperFile(run('llama')[0]);
    const paper = evaluateWordLevel(recs, 'paper');
    expect(paper.paperConvention.correct).toBe(227);
    expect(Math.round((paper.paperConvention.accuracy / 100) * 263)).toBe(227);
    expect(paper.examples.filter((e) => e.explained)).toHaveLength(227);
    const robust = evaluateWordLevel(recs, 'robust');
    // 227 explained, less the refusal: an invalid answer's self-explanation is not scored (was 227 before
    // the one rule for invalid answers)
    expect(robust.n).toBe(226);
    expect(robust.skipped).toBe(0);
    const disagree = robust.examples.filter((e) => e.prediction !== e.paperPrediction);
    // 30 (28 before the importer used the protocol's parser): the two extra are lines 189 and 234, which
    // say "rather negative" and then quote option (a) "This review is overall rather positive": they name
    // both options, so the one parser calls them invalid; the importer's old parser read "(a)" as positive.
    expect(disagree).toHaveLength(30);
    // 27 say "rather positive" and use (a)/(b) as bullets (the paper counted them negative, i.e. wrong,
    // and did not explain them); line 107 is a refusal that the paper's always-true branch made
    // "negative" = gold, so it was counted correct and even explained. Ours: invalid.
    const misread = disagree.filter((e) => !e.explained && e.prediction !== 'invalid');
    expect(misread).toHaveLength(27);
    expect(misread.every((e) => e.prediction === 'positive' && e.paperPrediction === 'negative')).toBe(true);
    const both = disagree.filter((e) => !e.explained && e.prediction === 'invalid');
    expect(both.map((e) => e.line)).toEqual([188, 233]);
    for (const e of both) expect(recs[e.line].response).toMatch(/overall rather negative\.\n\nHere's why:\n\n\(a\) This review is overall rather positiv/);
    const refusal = disagree.find((e) => e.explained)!;
    expect(refusal).toMatchObject({ line: 107, prediction: 'invalid', paperPrediction: 'negative' });
    expect(recs[107].response).toMatch(/^I apologize, but I cannot provide an answer/);
    expect(robust.invalidAnswers).toBe(3);
  });
  it('Mixtral: splitting comma-joined items roughly doubles the matched items', () => {
    const recs = readPaperFile(run('mixtral')[0]);
    const paper = evaluateWordLevel(recs, 'paper');
    const robust = evaluateWordLevel(recs, 'robust');
    expect(paper.itemsMatched / paper.itemsTotal).toBeLessThan(0.6);
    expect(robust.itemsMatched).toBeGreaterThan(2 * paper.itemsMatched);
    expect(robust.f1).toBeGreaterThan(paper.f1);
  });
});

describe('reading the files', () => {
  it('reads perturbation data and relevance; flags "N/T" relevance', () => {
    const recs = readPaperFile(run('llama')[0]);
    const withP = recs.filter((r) => r.perturbation);
    expect(withP).toHaveLength(215);
    for (const r of withP) {
      const p = r.perturbation!;
      expect(p.contextMask).toHaveLength(p.tokenIds.length);
      expect(p.seed).toBe(28);
      expect(p.testLogit).toHaveLength(1);
    }
    expect(recs.filter((r) => r.relevanceMissing.relevance_lrp === 'N/T')).toHaveLength(12);
    // the authors' aligned file (209 rows) uses the same context mask as the perturbation record
    const aligned = fs
      .readFileSync(path.join(sst, 'llama/oracle/28/sst_llama_seed_28_sparsity_oracle_rationales_one_over_n.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { content: string; context_mask: number[] });
    const byText = new Map(withP.map((r) => [r.text, r.perturbation!]));
    for (const a of aligned) expect(byText.get(a.content)?.contextMask).toEqual(a.context_mask);
  });
  it('names file, line and field on bad input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paper-'));
    const f = path.join(dir, 'x.jsonl');
    fs.writeFileSync(f, JSON.stringify({ content: 'a b', true_label: 1, gold_label_rationales: [1], response_0: '(a)' }) + '\n');
    expect(() => readPaperFile(f)).toThrow(/x\.jsonl: line 1, field "gold_label_rationales": 1 values for 2 words/);
    fs.writeFileSync(f, JSON.stringify({ content: 'a', true_label: 'pos', gold_label_rationales: [1], response_0: '(a)' }) + '\n');
    expect(() => readPaperFile(f)).toThrow(/line 1, field "true_label"/);
  });
});
