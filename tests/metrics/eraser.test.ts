/**
 * ERASER's definitions under ERASER's names, the workbench's other figures under their own (issue 10,
 * item 11). Reference: DeYoung et al. 2020, `rationale_benchmark/metrics.py` of jayded/eraserbenchmark:
 *   - IOU F1 (`partial_match_score`, macro): per example, matched = predicted spans whose best IOU with a
 *     gold span is >= 0.5; precision = mean over examples with predicted spans of matched / #pred,
 *     recall = mean over examples with gold spans of matched / #gold; F1 of the two means.
 *   - AUPRC (`_auprc`): per example `auc(recall, precision)` of `precision_recall_curve`, i.e. the
 *     trapezoid area, averaged over examples. sklearn's average_precision_score is a different figure.
 */
import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  eraserAuprc,
  eraserF1,
  eraserIouF1,
  groupKeyString,
  hashSeed,
  iouF1,
  iouPrecisionOf,
  iouRecallOf,
  mulberry32,
  quantileSorted,
} from '../../main/metrics';
import { runMetrics } from '../../main/metrics/run-metrics';
import type { ResultRecord, StoredExample } from '../../main/store';

// Three examples (word masks; first = gold/human, second = predicted/self):
//   A: gold [0,1,1,1,0,0,1,0] spans [1,4) [6,7); pred [0,1,1,0,0,0,0,1] spans [1,3) [7,8)
//      IOU([1,3),[1,4)) = 2/3 -> match; [7,8) overlaps nothing -> matched 1 of 2 pred, 1 of 2 gold
//      precision 1/2, recall 1/2
//   B: gold [1,1,0,0] span [0,2); pred all 0 -> no predicted span: precision undefined (ERASER leaves the
//      example out of the precision mean), recall 0/1 = 0
//   C: gold [1,1,0,0,1] spans [0,2) [4,5); pred [1,1,0,1,1] spans [0,2) [3,5)
//      IOU([0,2),[0,2)) = 1 -> match; IOU([3,5),[4,5)) = 1/2 >= 0.5 -> match: precision 2/2, recall 2/2
// ERASER: precision = (1/2 + 1) / 2 = 3/4 (A and C); recall = (1/2 + 0 + 1) / 3 = 1/2 (A, B, C)
//         IOU F1 = 2 * 3/4 * 1/2 / (3/4 + 1/2) = (3/4) / (5/4) = 3/5
// The mean of per-example F1s (not ERASER's): (1/2 + 0 + 1) / 3 = 1/2
const A = { gold: [0, 1, 1, 1, 0, 0, 1, 0], pred: [0, 1, 1, 0, 0, 0, 0, 1] };
const B = { gold: [1, 1, 0, 0], pred: [0, 0, 0, 0] };
const C = { gold: [1, 1, 0, 0, 1], pred: [1, 1, 0, 1, 1] };

describe('ERASER IOU F1 (F1 of mean precision and mean recall of partial matches)', () => {
  it('per-example partial-match precision and recall, undefined where ERASER leaves the example out', () => {
    const a = iouF1(A.gold, A.pred);
    expect([iouPrecisionOf(a), iouRecallOf(a)]).toEqual([0.5, 0.5]);
    const b = iouF1(B.gold, B.pred);
    expect([iouPrecisionOf(b), iouRecallOf(b)]).toEqual([null, 0]);
    const c = iouF1(C.gold, C.pred);
    expect([iouPrecisionOf(c), iouRecallOf(c)]).toEqual([1, 1]);
  });
  it('three examples by hand: 3/5, not the mean of per-example F1s (1/2)', () => {
    const counts = [A, B, C].map((e) => iouF1(e.gold, e.pred));
    const e = eraserIouF1(counts);
    expect(e.precision).toBeCloseTo(3 / 4, 15);
    expect(e.recall).toBeCloseTo(1 / 2, 15);
    expect(e.f1).toBeCloseTo(3 / 5, 15);
    const perExample = counts.reduce((s, r) => s + r.f1, 0) / 3;
    expect(perExample).toBeCloseTo(1 / 2, 15);
  });
  it('F1 is 0 when a mean is 0 or undefined (ERASER _f1; no predicted span anywhere)', () => {
    expect(eraserF1(0, 1)).toBe(0);
    expect(eraserF1(Number.NaN, 1)).toBe(0);
    const e = eraserIouF1([iouF1(B.gold, B.pred)]);
    expect(e.precision).toBeNaN();
    expect(e.f1).toBe(0);
  });
});

describe('ERASER AUPRC (trapezoid) vs average precision (sklearn)', () => {
  it('hand-computed curve: AUPRC 19/24, average precision 5/6', () => {
    // gold [1,0,1,0], scores [.9,.8,.7,.1]; thresholds descending:
    //   .9: tp 1 fp 0 -> P 1,   R 1/2
    //   .8: tp 1 fp 1 -> P 1/2, R 1/2
    //   .7: tp 2 fp 1 -> P 2/3, R 1
    //   .1: tp 2 fp 2 -> P 1/2, R 1
    // curve from (R 0, P 1): trapezoids (1/2)(1+1)/2 = 1/2; 0; (1/2)(1/2+2/3)/2 = 7/24; 0 -> AUPRC = 19/24
    // average precision: sum (R_n - R_n-1) P_n = 1/2 * 1 + 0 + 1/2 * 2/3 + 0 = 5/6
    const gold = [1, 0, 1, 0];
    const scores = [0.9, 0.8, 0.7, 0.1];
    expect(eraserAuprc(gold, scores)).toBeCloseTo(19 / 24, 15);
    expect(averagePrecision(gold, scores)).toBeCloseTo(5 / 6, 15);
  });
  it('ties enter at one threshold; perfect ranking gives 1; restricts to positions', () => {
    // gold [1,0,1,0], scores [.5,.5,.2,.2]: .5: P 1/2 R 1/2; .2: P 1/2 R 1
    // (0,1)->(1/2,1/2): 1/2 * 3/4 / 1 = 3/8; (1/2,1/2)->(1,1/2): 1/4 -> 5/8
    expect(eraserAuprc([1, 0, 1, 0], [0.5, 0.5, 0.2, 0.2])).toBeCloseTo(5 / 8, 15);
    expect(eraserAuprc([0, 1, 1], [0.1, 0.9, 0.8])).toBe(1);
    // allowed {1,2,3}: gold [0,1,1], scores [.9,.1,.5]: .9: P 0 R 0; .5: P 1/2 R 1/2; .1: P 2/3 R 1
    // (0,1)->(0,0): 0; (0,0)->(1/2,1/2): 1/2 * 1/4 = 1/8; (1/2,1/2)->(1,2/3): 1/2 * 7/12 = 7/24 -> 10/24
    expect(eraserAuprc([1, 0, 1, 1], [5, 0.9, 0.1, 0.5], [1, 2, 3])).toBeCloseTo(10 / 24, 15);
  });
  it('no positive in gold: undefined (NaN), not 0', () => {
    expect(eraserAuprc([0, 0, 0], [0.1, 0.9, 0.8])).toBeNaN();
  });
});

// ---------------------------------------------------------------------------------------------
// Through the run metrics (what `metrics`, the API and the report read)

const words = (n: number) => Array.from({ length: n }, (_, i) => ({ start: 2 * i, end: 2 * i + 1 }));
function result(id: number, gold: number[], pred: number[], relevance?: number[]): ResultRecord {
  const n = gold.length;
  const tokens = words(n).map((w, i) => ({ id: i, text: 'x', start: w.start, end: w.end, segment: 'text' }));
  return {
    id,
    runId: 1,
    exampleId: id,
    rawOutputs: {},
    label: 'positive',
    correct: true,
    answerToken: 'a',
    answerProb: 0.9,
    optionProbs: null,
    selfExplanation: null,
    alignment: null,
    tokens,
    masks: { 'human/word': gold, 'self/word': pred, 'human/token': gold, 'self/token': pred },
    skippedReason: null,
    createdAt: '',
    relevance: relevance ? [{ method: 'lrp-cp', values: Float32Array.from(relevance), explainedValue: null, meta: null }] : [],
  };
}

describe('run metrics: iou-f1 is ERASER’s, iou-f1-per-example and average-precision keep the old figures', () => {
  const results = [result(1, A.gold, A.pred), result(2, B.gold, B.pred), result(3, C.gold, C.pred, [0.1, 0.9, 0.8, 0.3, 0.5])];
  const examples = new Map<number, StoredExample>();
  const rows = runMetrics(results, examples, { model: 'm', seed: 28 }, { B: 200 });
  const row = (name: string, scope: Record<string, unknown>) => rows.find((r) => r.name === name && Object.entries(scope).every(([k, v]) => r.scope[k] === v))!;
  const word = { level: 'word', pair: 'human×self' };

  it('values', () => {
    expect(row('iou-f1', word).value).toBeCloseTo(3 / 5, 15);
    expect(row('iou-precision', word)).toMatchObject({ n: 2 });
    expect(row('iou-precision', word).value).toBeCloseTo(3 / 4, 15);
    expect(row('iou-recall', word)).toMatchObject({ n: 3 });
    expect(row('iou-recall', word).value).toBeCloseTo(1 / 2, 15);
    expect(row('iou-f1-per-example', word).value).toBeCloseTo(1 / 2, 15);
    // C only has relevance: gold [1,1,0,0,1], scores [.1,.9,.8,.3,.5] (float32):
    //   .9: P 1 R 1/3; .8: P 1/2 R 1/3; .5: P 2/3 R 2/3; .3: P 1/2 R 2/3; .1: P 3/5 R 1
    //   AUPRC = 1/3*(1+1)/2 + 0 + 1/3*(1/2+2/3)/2 + 0 + 1/3*(1/2+3/5)/2 = 1/3 + 7/36 + 11/60 = 128/180
    //   AP = 1/3*1 + 1/3*2/3 + 1/3*3/5 = 1/3 + 2/9 + 1/5 = 34/45
    expect(row('auprc', { level: 'token', method: 'lrp-cp' }).value).toBeCloseTo(128 / 180, 12);
    expect(row('average-precision', { level: 'token', method: 'lrp-cp' }).value).toBeCloseTo(34 / 45, 12);
  });

  it('the interval of ERASER’s IOU F1 resamples examples and recomputes both means (independent recomputation)', () => {
    // the per-run seeds: runMetrics seeds the scope, aggregate derives one seed per group and metric
    const scopeSeed = hashSeed(JSON.stringify({ model: 'm', seed: 28 }));
    const key = groupKeyString({ model: '', seed: '', language: '', indicator: '' });
    const rand = mulberry32(hashSeed(`${key}word:human×self:iou-f1`, scopeSeed));
    const p = [0.5, null, 1];
    const r = [0.5, 0, 1];
    const stats: number[] = [];
    for (let b = 0; b < 200; b++) {
      const draw = [0, 1, 2].map(() => Math.floor(rand() * 3));
      const ps = draw.map((i) => p[i]).filter((x): x is number => x !== null);
      const rs = draw.map((i) => r[i]);
      const mp = ps.length ? ps.reduce((a, x) => a + x, 0) / ps.length : Number.NaN;
      const mr = rs.reduce((a, x) => a + x, 0) / rs.length;
      stats.push(mp > 0 && mr > 0 ? (2 * mp * mr) / (mp + mr) : 0);
    }
    stats.sort((a, b) => a - b);
    const f = row('iou-f1', word);
    expect(f.n).toBe(3);
    expect(f.ciLow).toBeCloseTo(quantileSorted(stats, 0.025), 14);
    expect(f.ciHigh).toBeCloseTo(quantileSorted(stats, 0.975), 14);
    expect(f.ciLow!).toBeLessThan(f.ciHigh!);
  });
});
