/**
 * Plausibility: agreement between two rationales (binary masks) or between continuous scores and a
 * human mask, per example. Conventions follow scikit-learn where the paper and ERASER used it:
 * - precision / recall / F1 with zero division -> 0 (sklearn's default `zero_division="warn"` returns 0);
 * - Cohen's kappa as sklearn's `cohen_kappa_score(labels=[0, 1])`, see `cohenKappa`;
 * - ERASER's AUPRC (trapezoid area under the precision-recall curve, sklearn `auc(recall, precision)`),
 *   see `eraserAuprc`; sklearn's `average_precision_score` is a different figure, kept as `averagePrecision`;
 * - ERASER's IOU F1 (F1 of the mean precision and mean recall of partial span matches) is a corpus figure,
 *   see `eraserIouF1`; the mean of per-example IOU F1s is kept under its own name (`iouF1(...).f1`).
 * Every function takes an optional `positions` list restricting the comparison (e.g. the text's own tokens).
 */
import { allowedPositions } from './binarize';

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

function isBinary(v: number): boolean {
  return v === 0 || v === 1;
}

function checkPair(gold: readonly number[], pred: readonly number[]): void {
  if (gold.length !== pred.length) throw new Error(`plausibility: masks differ in length (${gold.length} vs ${pred.length})`);
}

/** Confusion counts of `pred` against `gold` (gold = reference) over the allowed positions. Masks must be 0/1. */
export function confusion(gold: readonly number[], pred: readonly number[], positions?: readonly number[]): Confusion {
  checkPair(gold, pred);
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const i of allowedPositions(gold.length, positions)) {
    const g = gold[i];
    const p = pred[i];
    if (!isBinary(g) || !isBinary(p)) throw new Error(`plausibility: masks must be 0/1, got gold=${g} pred=${p} at position ${i}`);
    if (g === 1 && p === 1) c.tp++;
    else if (g === 0 && p === 1) c.fp++;
    else if (g === 1 && p === 0) c.fn++;
    else c.tn++;
  }
  return c;
}

const safeDiv = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export const precisionOf = (c: Confusion): number => safeDiv(c.tp, c.tp + c.fp);
export const recallOf = (c: Confusion): number => safeDiv(c.tp, c.tp + c.fn);
/** F1 = 2tp / (2tp + fp + fn); 0 when both masks are empty (sklearn's zero_division=0). */
export const f1Of = (c: Confusion): number => safeDiv(2 * c.tp, 2 * c.tp + c.fp + c.fn);

export interface KappaOptions {
  /**
   * Value when kappa is undefined: both masks constant and identical (both empty, or both full), so
   * expected agreement p_e = 1 and kappa = 0/0. Default NaN, which is what sklearn returns and what the
   * paper's `np.nanmean` then leaves out of the mean (this matters: Mistral seed 28 has one such example,
   * and counting it as 0 would give 0.52 instead of the published 0.53). Set 1 to count it as agreement.
   */
  undefinedValue?: number;
}

/**
 * Cohen's kappa = (p_o - p_e) / (1 - p_e) over the allowed positions.
 * When exactly one mask is empty (all 0), kappa is 0 by the formula (p_o = p_e), as the paper states.
 * When both are identical constants, see `KappaOptions.undefinedValue`.
 */
export function kappaOf(c: Confusion, opts: KappaOptions = {}): number {
  // Same value as (p_o - p_e) / (1 - p_e), written on the counts so that the "0 when one mask is empty"
  // case is exactly 0 (the probability form leaves -3e-16 residues). The denominator is 0 exactly when
  // p_e = 1: both masks empty, both full, or no positions.
  const den = (c.tp + c.fp) * (c.fp + c.tn) + (c.tp + c.fn) * (c.fn + c.tn);
  if (den === 0) return opts.undefinedValue ?? Number.NaN;
  return (2 * (c.tp * c.tn - c.fn * c.fp)) / den;
}

export function precision(gold: readonly number[], pred: readonly number[], positions?: readonly number[]): number {
  return precisionOf(confusion(gold, pred, positions));
}
export function recall(gold: readonly number[], pred: readonly number[], positions?: readonly number[]): number {
  return recallOf(confusion(gold, pred, positions));
}
export function f1(gold: readonly number[], pred: readonly number[], positions?: readonly number[]): number {
  return f1Of(confusion(gold, pred, positions));
}
export function cohenKappa(
  gold: readonly number[],
  pred: readonly number[],
  positions?: readonly number[],
  opts?: KappaOptions,
): number {
  return kappaOf(confusion(gold, pred, positions), opts);
}

export interface MaskAgreement extends Confusion {
  precision: number;
  recall: number;
  f1: number;
  kappa: number;
}

/** All binary-mask agreement figures at once (gold = human or reference mask). */
export function maskAgreement(
  gold: readonly number[],
  pred: readonly number[],
  positions?: readonly number[],
  opts?: KappaOptions,
): MaskAgreement {
  const c = confusion(gold, pred, positions);
  return { ...c, precision: precisionOf(c), recall: recallOf(c), f1: f1Of(c), kappa: kappaOf(c, opts) };
}

// ---------------------------------------------------------------------------------------------
// ERASER IOU-F1

/** Inclusive-exclusive run [start, end) of consecutive selected positions. */
export interface Run {
  start: number;
  end: number;
}

/**
 * Maximal runs of 1s, where consecutive means consecutive in the allowed-position order: with
 * `positions` given, two selected positions are in one span when no allowed position lies between them.
 * Runs are reported in original position indices ([first, last + 1)).
 */
export function spansOf(mask: readonly number[], positions?: readonly number[]): Run[] {
  const allowed = allowedPositions(mask.length, positions);
  const runs: Run[] = [];
  let cur: Run | null = null;
  for (const p of allowed) {
    if (!isBinary(mask[p])) throw new Error(`plausibility: mask must be 0/1, got ${mask[p]} at position ${p}`);
    if (mask[p] === 1) {
      if (cur) cur.end = p + 1;
      else cur = { start: p, end: p + 1 };
    } else if (cur) {
      runs.push(cur);
      cur = null;
    }
  }
  if (cur) runs.push(cur);
  return runs;
}

function runIou(a: Run, b: Run, allowed: ReadonlySet<number> | null): number {
  // Count allowed positions only, so positions excluded from the comparison never inflate a span.
  const count = (s: number, e: number): number => {
    if (e <= s) return 0;
    if (!allowed) return e - s;
    let k = 0;
    for (let i = s; i < e; i++) if (allowed.has(i)) k++;
    return k;
  };
  const inter = count(Math.max(a.start, b.start), Math.min(a.end, b.end));
  const union = count(a.start, a.end) + count(b.start, b.end) - inter;
  return union === 0 ? 0 : inter / union;
}

export interface IouF1 {
  precision: number;
  recall: number;
  f1: number;
  predSpans: number;
  goldSpans: number;
  /** Predicted spans whose best IOU with a gold span is >= threshold. */
  matched: number;
}

/**
 * Partial span matching of one example, as ERASER scores it (DeYoung et al. 2020, reference code
 * `rationale_benchmark/metrics.py`, `partial_match_score`): spans are maximal contiguous runs; a
 * predicted span is a true positive when its best IOU with any gold span is >= threshold (0.5; the code
 * compares with `>=`, though its --iou_thresholds help says "larger than": we follow the code, which
 * produced ERASER's published figures); `matched` counts them. precision = matched / #pred spans, recall = matched / #gold
 * spans (ERASER uses the matched predicted spans as the numerator of both); each is 0 here when its
 * denominator is 0, and `f1` is this example's harmonic mean.
 *
 * `f1` is NOT ERASER's IOU F1: ERASER averages precision and recall over examples first and takes the F1
 * of those two means (`eraserIouF1`). The mean over examples of this per-example `f1` is reported under its
 * own name ("iou-f1-per-example").
 */
export function iouF1(
  gold: readonly number[],
  pred: readonly number[],
  positions?: readonly number[],
  threshold = 0.5,
): IouF1 {
  checkPair(gold, pred);
  const goldRuns = spansOf(gold, positions);
  const predRuns = spansOf(pred, positions);
  const allowed = positions ? new Set(positions) : null;
  let matched = 0;
  for (const p of predRuns) {
    let best = 0;
    for (const g of goldRuns) best = Math.max(best, runIou(p, g, allowed));
    if (best >= threshold) matched++;
  }
  const prec = safeDiv(matched, predRuns.length);
  const rec = safeDiv(matched, goldRuns.length);
  return {
    precision: prec,
    recall: rec,
    f1: safeDiv(2 * prec * rec, prec + rec),
    predSpans: predRuns.length,
    goldSpans: goldRuns.length,
    matched,
  };
}

/**
 * An example's ERASER partial-match precision: matched / #pred spans, or null when the example has no
 * predicted span. ERASER keys its mean by the examples that have predicted spans, so an example without
 * one is not in the precision mean at all (not a 0 in it).
 */
export const iouPrecisionOf = (r: Pick<IouF1, 'matched' | 'predSpans'>): number | null => (r.predSpans > 0 ? r.matched / r.predSpans : null);
/** An example's ERASER partial-match recall: matched / #gold spans, or null when the example has no gold span. */
export const iouRecallOf = (r: Pick<IouF1, 'matched' | 'goldSpans'>): number | null => (r.goldSpans > 0 ? r.matched / r.goldSpans : null);

/** ERASER's `_f1`: 0 when either is 0; here also when either is undefined (NaN: no example had such spans). */
export function eraserF1(precision: number, recall: number): number {
  if (!(precision > 0) || !(recall > 0)) return 0;
  return (2 * precision * recall) / (precision + recall);
}

export interface EraserIouF1 {
  /** Mean of matched / #pred spans over the examples with a predicted span (NaN when none has one). */
  precision: number;
  /** Mean of matched / #gold spans over the examples with a gold span (NaN when none has one). */
  recall: number;
  /** F1 of the two means (`eraserF1`). */
  f1: number;
}

/**
 * ERASER's IOU F1 over a set of examples (the "macro" figure of `partial_match_score`, the one ERASER's
 * paper reports): mean partial-match precision and mean partial-match recall, each over the examples where
 * it is defined, then F1 of the two means. Where ERASER would divide by zero (no example with a predicted
 * span), precision is NaN and F1 is 0.
 */
export function eraserIouF1(examples: readonly Pick<IouF1, 'matched' | 'predSpans' | 'goldSpans'>[]): EraserIouF1 {
  let ps = 0;
  let np = 0;
  let rs = 0;
  let nr = 0;
  for (const e of examples) {
    const p = iouPrecisionOf(e);
    const r = iouRecallOf(e);
    if (p !== null) (ps += p), np++;
    if (r !== null) (rs += r), nr++;
  }
  const precision = np ? ps / np : Number.NaN;
  const recall = nr ? rs / nr : Number.NaN;
  return { precision, recall, f1: eraserF1(precision, recall) };
}

// ---------------------------------------------------------------------------------------------
// AUPRC (ERASER) and average precision (sklearn)

function checkScored(gold: readonly number[], scores: readonly number[], positions?: readonly number[]): number[] {
  checkPair(gold, scores);
  const idx = allowedPositions(gold.length, positions);
  for (const i of idx) {
    if (!isBinary(gold[i])) throw new Error(`plausibility: gold must be 0/1, got ${gold[i]} at position ${i}`);
    if (!Number.isFinite(scores[i])) throw new Error(`plausibility: score at position ${i} is ${scores[i]}`);
  }
  return idx;
}

/**
 * The precision-recall points of sklearn's `precision_recall_curve` (drop_intermediate=False), in the
 * order of descending score threshold: one point per distinct score, positions with equal scores entering
 * together. Requires at least one positive.
 */
function prPoints(gold: readonly number[], scores: readonly number[], idx: number[], totalPos: number): { recall: number; precision: number }[] {
  idx.sort((a, b) => scores[b] - scores[a]);
  const pts: { recall: number; precision: number }[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < idx.length; j++) {
    if (gold[idx[j]] === 1) tp++;
    else fp++;
    const lastOfGroup = j === idx.length - 1 || scores[idx[j + 1]] !== scores[idx[j]];
    if (lastOfGroup) pts.push({ recall: tp / totalPos, precision: tp / (tp + fp) });
  }
  return pts;
}

/**
 * ERASER's AUPRC of continuous `scores` against the binary `gold` mask (DeYoung et al. 2020, reference
 * code `_auprc`): `precision, recall, _ = precision_recall_curve(gold, scores)` and `auc(recall, precision)`,
 * i.e. the trapezoid area under the curve through the points (recall 0, precision 1) and then one point
 * per distinct score threshold in descending order:
 *
 *   AUPRC = sum_n (R_n - R_{n-1}) * (P_n + P_{n-1}) / 2,   (R_0, P_0) = (0, 1).
 *
 * ERASER averages it over all examples. With no positive in `gold` the curve is undefined (recall 0/0;
 * sklearn of ERASER's time gave NaN, today's sets recall to 1 and gives 0.5): NaN here, so the example is
 * left out of the mean and counted as undefined.
 */
export function eraserAuprc(gold: readonly number[], scores: readonly number[], positions?: readonly number[]): number {
  const idx = checkScored(gold, scores, positions);
  const totalPos = idx.reduce((s, i) => s + gold[i], 0);
  if (totalPos === 0) return Number.NaN;
  let prev = { recall: 0, precision: 1 };
  let area = 0;
  for (const pt of prPoints(gold, scores, idx, totalPos)) {
    area += ((pt.recall - prev.recall) * (pt.precision + prev.precision)) / 2;
    prev = pt;
  }
  return area;
}

/**
 * Average precision (not ERASER's AUPRC) of continuous `scores` against the binary `gold` mask, exactly as scikit-learn's
 * `average_precision_score`: AP = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds in
 * descending order; positions with equal scores enter together at one threshold (so ties are not
 * broken by position). With no positive in `gold`, sklearn sets recall to 1 everywhere and AP is 0;
 * we return 0 likewise.
 */
export function averagePrecision(gold: readonly number[], scores: readonly number[], positions?: readonly number[]): number {
  const idx = checkScored(gold, scores, positions);
  const totalPos = idx.reduce((s, i) => s + gold[i], 0);
  if (totalPos === 0) return 0;
  let prevRecall = 0;
  let ap = 0;
  for (const pt of prPoints(gold, scores, idx, totalPos)) {
    ap += (pt.recall - prevRecall) * pt.precision;
    prevRecall = pt.recall;
  }
  return ap;
}

// ---------------------------------------------------------------------------------------------
// Word <-> model-token mapping via character spans

export interface Span {
  start: number;
  end: number;
}

/** Half-open character spans overlap when they share at least one character. Empty spans overlap nothing. */
export function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end && a.end > a.start && b.end > b.start;
}

/**
 * Word mask -> token mask: a token is in the rationale when its character span overlaps the span of
 * a rationale word (a SentencePiece token "▁good" whose span includes the leading space overlaps only
 * "good", since the space belongs to no word). Spans are offsets into the same string.
 */
export function wordMaskToTokenMask(wordMask: readonly number[], words: readonly Span[], tokens: readonly Span[]): number[] {
  if (wordMask.length !== words.length) throw new Error(`wordMaskToTokenMask: ${wordMask.length} mask values for ${words.length} words`);
  const out = new Array<number>(tokens.length).fill(0);
  for (let w = 0; w < words.length; w++) {
    if (wordMask[w] !== 1) continue;
    for (let t = 0; t < tokens.length; t++) if (overlaps(words[w], tokens[t])) out[t] = 1;
  }
  return out;
}

/**
 * Token scores -> word scores: each word gets the maximum score of the tokens overlapping it (the
 * paper's `align_model_to_rationale` with `pool_func=np.max`); 'sum' is offered for relevance mass.
 * A word that no token overlaps gets 0 (as in the paper). For 0/1 token masks, 'max' means a word is
 * selected when any of its tokens is.
 */
export function tokenScoresToWordScores(
  tokenScores: readonly number[],
  tokens: readonly Span[],
  words: readonly Span[],
  pool: 'max' | 'sum' = 'max',
): number[] {
  if (tokenScores.length !== tokens.length) throw new Error(`tokenScoresToWordScores: ${tokenScores.length} scores for ${tokens.length} tokens`);
  return words.map((w) => {
    let acc: number | null = null;
    for (let t = 0; t < tokens.length; t++) {
      if (!overlaps(w, tokens[t])) continue;
      const s = tokenScores[t];
      acc = acc === null ? s : pool === 'max' ? Math.max(acc, s) : acc + s;
    }
    return acc ?? 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Where relevance lands

export type Segment = 'text' | 'instruction' | 'options' | 'template' | 'answer';

export interface SegmentShare {
  /** Share of total |relevance|: sum_{i in seg} |r_i| / sum_i |r_i| (NaN when all relevance is 0). */
  abs: number;
  /** Share of signed relevance: sum_{i in seg} r_i / sum_i r_i (can be < 0 or > 1; NaN when the total is 0). */
  signed: number;
  /** Share of positive relevance: sum_{i in seg} max(r_i, 0) / sum_i max(r_i, 0) (NaN when no relevance is positive). */
  positive: number;
  /** The raw sums, so callers can re-aggregate. */
  absSum: number;
  signedSum: number;
  positiveSum: number;
  tokens: number;
}

/** Relevance share per segment; `segments[i]` names the segment of token i. */
export function relevanceShare<S extends string = Segment>(
  relevance: readonly number[],
  segments: readonly S[],
): Record<S, SegmentShare> {
  if (relevance.length !== segments.length) throw new Error(`relevanceShare: ${relevance.length} relevances for ${segments.length} segment labels`);
  let totalAbs = 0;
  let totalSigned = 0;
  let totalPositive = 0;
  const acc = new Map<S, { absSum: number; signedSum: number; positiveSum: number; tokens: number }>();
  for (let i = 0; i < relevance.length; i++) {
    const r = relevance[i];
    if (!Number.isFinite(r)) throw new Error(`relevanceShare: relevance at ${i} is ${r}`);
    totalAbs += Math.abs(r);
    totalSigned += r;
    totalPositive += Math.max(r, 0);
    const a = acc.get(segments[i]) ?? { absSum: 0, signedSum: 0, positiveSum: 0, tokens: 0 };
    a.absSum += Math.abs(r);
    a.signedSum += r;
    a.positiveSum += Math.max(r, 0);
    a.tokens++;
    acc.set(segments[i], a);
  }
  const out = {} as Record<S, SegmentShare>;
  for (const [seg, a] of acc) {
    out[seg] = {
      ...a,
      abs: totalAbs === 0 ? Number.NaN : a.absSum / totalAbs,
      signed: totalSigned === 0 ? Number.NaN : a.signedSum / totalSigned,
      positive: totalPositive === 0 ? Number.NaN : a.positiveSum / totalPositive,
    };
  }
  return out;
}
