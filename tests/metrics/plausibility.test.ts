import { describe, it, expect } from 'vitest';
import {
  confusion,
  maskAgreement,
  cohenKappa,
  f1,
  precision,
  recall,
  iouF1,
  spansOf,
  averagePrecision,
  wordMaskToTokenMask,
  tokenScoresToWordScores,
  relevanceShare,
  mulberry32,
} from '../../main/metrics';

describe('precision / recall / F1 / kappa', () => {
  it('matches a hand-computed case', () => {
    const gold = [1, 1, 0, 0, 1, 0];
    const pred = [1, 0, 1, 0, 1, 0];
    // tp = {0,4} = 2, fp = {2} = 1, fn = {1} = 1, tn = {3,5} = 2
    expect(confusion(gold, pred)).toEqual({ tp: 2, fp: 1, fn: 1, tn: 2 });
    const a = maskAgreement(gold, pred);
    expect(a.precision).toBeCloseTo(2 / 3, 12);
    expect(a.recall).toBeCloseTo(2 / 3, 12);
    expect(a.f1).toBeCloseTo(2 / 3, 12); // 2*2 / (2*2 + 1 + 1)
    // p_o = 4/6; p(gold=1) = p(pred=1) = 1/2; p_e = 1/4 + 1/4 = 1/2; kappa = (2/3 - 1/2) / (1/2) = 1/3
    expect(a.kappa).toBeCloseTo(1 / 3, 12);
  });
  it('restricts to positions', () => {
    // allowed {1,2,3}: gold' = [1,0,0], pred' = [1,1,0] -> tp 1, fp 1, fn 0, tn 1
    const gold = [1, 1, 0, 0];
    const pred = [0, 1, 1, 0];
    expect(precision(gold, pred, [1, 2, 3])).toBeCloseTo(0.5, 12);
    expect(recall(gold, pred, [1, 2, 3])).toBe(1);
    expect(f1(gold, pred, [1, 2, 3])).toBeCloseTo(2 / 3, 12); // 2 / (2 + 1 + 0)
    // p_o = 2/3; p(g=1) = 1/3, p(p=1) = 2/3; p_e = 2/9 + 2/9 = 4/9; kappa = (6/9 - 4/9) / (5/9) = 2/5
    expect(cohenKappa(gold, pred, [1, 2, 3])).toBeCloseTo(0.4, 12);
  });
  it('empty prediction: F1, precision, recall 0; kappa 0', () => {
    // gold [1,0,0,1], pred empty: p_o = 1/2, p_e = 1/2*0 + 1/2*1 = 1/2 -> kappa 0
    const a = maskAgreement([1, 0, 0, 1], [0, 0, 0, 0]);
    expect([a.precision, a.recall, a.f1, a.kappa]).toEqual([0, 0, 0, 0]);
    // empty gold, non-empty prediction: kappa 0, recall 0 (zero division), precision 0
    const b = maskAgreement([0, 0, 0], [0, 1, 0]);
    expect([b.precision, b.recall, b.f1, b.kappa]).toEqual([0, 0, 0, 0]);
    // one empty, the other full: p_o = 0, p_e = 0 -> kappa 0
    expect(cohenKappa([0, 0], [1, 1])).toBe(0);
  });
  it('identical constant masks: kappa undefined (NaN by default, or the chosen value); F1 0 for both empty', () => {
    expect(cohenKappa([0, 0, 0], [0, 0, 0])).toBeNaN();
    expect(cohenKappa([1, 1], [1, 1])).toBeNaN();
    expect(cohenKappa([0, 0, 0], [0, 0, 0], undefined, { undefinedValue: 1 })).toBe(1);
    expect(f1([0, 0], [0, 0])).toBe(0);
    expect(f1([1, 1], [1, 1])).toBe(1);
    // no allowed positions at all
    expect(cohenKappa([1, 0], [1, 0], [])).toBeNaN();
  });
  it('kappa agrees with the textbook p_o / p_e formula on random masks', () => {
    // kappa = (p_o - p_e) / (1 - p_e), p_o = (tp+tn)/n, p_e = p(g=1)p(p=1) + p(g=0)p(p=0)
    const rand = mulberry32(7);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rand() * 20);
      const g = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
      const p = Array.from({ length: n }, () => (rand() < 0.4 ? 1 : 0));
      const { tp, fp, fn, tn } = confusion(g, p);
      const po = (tp + tn) / n;
      const g1 = (tp + fn) / n;
      const p1 = (tp + fp) / n;
      const pe = g1 * p1 + (1 - g1) * (1 - p1);
      const k = cohenKappa(g, p);
      if (Math.abs(1 - pe) < 1e-12) expect(k).toBeNaN();
      else {
        expect(k).toBeCloseTo((po - pe) / (1 - pe), 10);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(250);
  });
  it('rejects non-binary masks and length mismatches', () => {
    expect(() => f1([1, 0], [1])).toThrow(/length/);
    expect(() => f1([1, 2], [1, 0])).toThrow(/0\/1/);
  });
});

describe('IOU-F1 (ERASER)', () => {
  it('spans are maximal runs', () => {
    expect(spansOf([0, 1, 1, 0, 1])).toEqual([
      { start: 1, end: 3 },
      { start: 4, end: 5 },
    ]);
    // with positions, runs are contiguous in the allowed order: 0 and 2 are adjacent once 1 is excluded
    expect(spansOf([1, 0, 1, 0], [0, 2, 3])).toEqual([{ start: 0, end: 3 }]);
    expect(spansOf([0, 0])).toEqual([]);
  });
  it('hand-computed case', () => {
    // gold spans [1,4) and [6,7); pred spans [1,3) and [7,8)
    // IOU([1,3),[1,4)) = 2/3 >= 0.5 -> match; [7,8) overlaps nothing -> no match
    // precision 1/2, recall 1/2, F1 1/2
    const r = iouF1([0, 1, 1, 1, 0, 0, 1, 0], [0, 1, 1, 0, 0, 0, 0, 1]);
    expect(r).toMatchObject({ matched: 1, predSpans: 2, goldSpans: 2 });
    expect(r.precision).toBeCloseTo(0.5, 12);
    expect(r.recall).toBeCloseTo(0.5, 12);
    expect(r.f1).toBeCloseTo(0.5, 12);
  });
  it('IOU exactly 0.5 matches; below does not', () => {
    expect(iouF1([1, 1, 0, 0], [1, 0, 0, 0]).f1).toBe(1); // IOU 1/2
    expect(iouF1([1, 1, 1, 0], [1, 0, 0, 0]).f1).toBe(0); // IOU 1/3
    // one predicted span covering two gold spans: IOU 1/3 with each -> no match
    expect(iouF1([1, 0, 1], [1, 1, 1]).f1).toBe(0);
  });
  it('empty masks give 0', () => {
    expect(iouF1([1, 0], [0, 0]).f1).toBe(0);
    expect(iouF1([0, 0], [0, 0]).f1).toBe(0);
    expect(iouF1([0, 0], [1, 0]).f1).toBe(0);
  });
});

describe('AUPRC = sklearn average_precision_score', () => {
  it('sklearn documentation example', () => {
    // desc: 0.8(1) P=1 R=.5 -> +.5; 0.4(0) R unchanged; 0.35(1) P=2/3 R=1 -> +.5*2/3; AP = 0.8333...
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.5 + 1 / 3, 12);
  });
  it('ties enter at one threshold (not broken by position)', () => {
    // t=0.5: tp1 fp1 P=.5 R=.5 -> .25; t=0.2: tp2 fp2 P=.5 R=1 -> .25; AP = 0.5
    // (breaking the tie by position would give 0.8333)
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.2, 0.2])).toBeCloseTo(0.5, 12);
    // all-equal (e.g. all-zero) scores: AP = prevalence = 1/4
    expect(averagePrecision([1, 0, 0, 0], [0, 0, 0, 0])).toBeCloseTo(0.25, 12);
  });
  it('perfect ranking gives 1; no positive gives 0 (as sklearn)', () => {
    expect(averagePrecision([0, 1, 1], [0.1, 0.9, 0.8])).toBe(1);
    expect(averagePrecision([0, 0, 0], [0.1, 0.9, 0.8])).toBe(0);
  });
  it('restricts to positions', () => {
    // allowed {1,2,3}: gold [0,1,1], scores [.9,.1,.5]: desc .9(0) P=0; .5(1) P=1/2 R=1/2 -> .25; .1(1) P=2/3 R=1 -> 1/3
    expect(averagePrecision([1, 0, 1, 1], [5, 0.9, 0.1, 0.5], [1, 2, 3])).toBeCloseTo(0.25 + 1 / 3, 12);
  });
});

describe('word <-> token mapping', () => {
  // text "not bad at all": words not[0,3) bad[4,7) at[8,10) all[11,14)
  const words = [
    { start: 0, end: 3 },
    { start: 4, end: 7 },
    { start: 8, end: 10 },
    { start: 11, end: 14 },
  ];
  // SentencePiece-like tokens carrying their leading space: "not" " b" "ad" " at" " all"
  const tokens = [
    { start: 0, end: 3 },
    { start: 3, end: 5 },
    { start: 5, end: 7 },
    { start: 7, end: 10 },
    { start: 10, end: 14 },
  ];
  it('a token is in the rationale when it overlaps a rationale word', () => {
    // "bad" [4,7) overlaps " b" [3,5) and "ad" [5,7); not "not" [0,3) and not " at" [7,10)
    expect(wordMaskToTokenMask([0, 1, 0, 0], words, tokens)).toEqual([0, 1, 1, 0, 0]);
    expect(wordMaskToTokenMask([1, 0, 0, 1], words, tokens)).toEqual([1, 0, 0, 0, 1]);
    expect(wordMaskToTokenMask([0, 0, 0, 0], words, tokens)).toEqual([0, 0, 0, 0, 0]);
  });
  it('a word gets the max (or sum) of its tokens; uncovered words get 0', () => {
    const s = [0.1, 0.7, 0.2, -0.3, 0.4];
    expect(tokenScoresToWordScores(s, tokens, words)).toEqual([0.1, 0.7, -0.3, 0.4]);
    const sum = tokenScoresToWordScores(s, tokens, words, 'sum');
    expect(sum[1]).toBeCloseTo(0.9, 12);
    // only the first two tokens: "at" and "all" are covered by none
    expect(tokenScoresToWordScores([0.5, 0.2], tokens.slice(0, 2), words)).toEqual([0.5, 0.2, 0, 0]);
    // round trip of a mask
    expect(tokenScoresToWordScores(wordMaskToTokenMask([0, 1, 0, 1], words, tokens), tokens, words)).toEqual([0, 1, 0, 1]);
  });
  it('zero-length spans overlap nothing', () => {
    expect(wordMaskToTokenMask([1], [{ start: 0, end: 3 }], [{ start: 1, end: 1 }])).toEqual([0]);
  });
});

describe('relevance share by segment', () => {
  it('hand-computed shares', () => {
    // |r| total = 1+2+3+0.5+0.5 = 7; signed total = 1-2+3+0.5-0.5 = 2
    const r = relevanceShare([1, -2, 3, 0.5, -0.5], ['template', 'text', 'text', 'options', 'answer']);
    expect(r.text.abs).toBeCloseTo(5 / 7, 12);
    expect(r.text.signed).toBeCloseTo(1 / 2, 12); // (-2+3)/2
    expect(r.template.abs).toBeCloseTo(1 / 7, 12);
    expect(r.template.signed).toBeCloseTo(1 / 2, 12);
    expect(r.options.abs).toBeCloseTo(0.5 / 7, 12);
    expect(r.options.signed).toBeCloseTo(0.25, 12);
    expect(r.answer.signed).toBeCloseTo(-0.25, 12);
    expect(r.text.tokens).toBe(2);
    const absSum = Object.values(r).reduce((a, s) => a + s.abs, 0);
    expect(absSum).toBeCloseTo(1, 12);
  });
  it('all-zero relevance gives NaN shares, not a division error', () => {
    const r = relevanceShare([0, 0], ['text', 'template']);
    expect(r.text.abs).toBeNaN();
    expect(r.text.absSum).toBe(0);
  });
});
