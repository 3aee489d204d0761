/**
 * k-greedy flipping: the faithfulness test of the study's final version (k = 1 for sentiment, k = 3 for
 * the longer RaFoLa and Climate-FEVER texts).
 *
 * What the authors' code does (oeberle/self_explanations_human_rationales, commit 751d8896,
 * `xai/flipping.py` lines 24-79 `flip` (order: line 39; n = ceil(frac * N): line 51; softmax readout: line 63),
 * called from `flipping_evaluation.py` lines 589-627 (ONLY_CONTEXT: 37 and 614; filler: 622-624; 21 fractions: 618)):
 *   - relevance outside the text ("context") is set to -10e6 (`ONLY_CONTEXT`), so only the text's tokens
 *     are ever removed, and N = the number of text tokens (`int(context_mask.sum())`);
 *   - tokens are ordered by relevance, largest first (`np.argsort(relevance)[::-1]`);
 *   - step by step the first n of that order are "flipped": replaced by a filler token (`replace_token`:
 *     "_" for Llama, the unknown token otherwise) — all n at once in the original input, not one after
 *     another on an already-changed input;
 *   - after each step the model reads the input again and the softmax probability of the originally
 *     generated answer token at the last position is recorded (`evidence`); the first point (n = 0) is the
 *     unmasked probability, the last (n = N) has the whole text flipped.
 * The published code steps by fractions (n = ceil(frac * N), 21 fractions); the final version steps by k
 * tokens: n = 0, k, 2k, ..., N (the last step takes the remainder). That is what this module does.
 *
 * Ours, where the code leaves it open:
 *   - ties in relevance are ranked by position, earlier first (binarize.ts's tie rule; numpy's argsort
 *     reversed leaves ties to its sort);
 *   - the curve's x is the fraction of the text flipped (n / N), so texts of different length share an
 *     axis; its area is the trapezoid area under p over [0, 1]. Lower area = the probability falls sooner
 *     = the relevance order is more faithful. (The authors plot the curve and the end point; they compute
 *     no area, so the area is this workbench's summary of their curve.)
 */
import { rankPositions } from './binarize';
import type { ProbAfterMasking } from './faithfulness';
import { FLIPPING_K_BY_TASK, type TaskKind } from '../api/vocabulary';

/** The study's k: its own number, or the task kind's (FLIPPING_K_BY_TASK) when it says 'task'. */
export function flippingK(taskKind: TaskKind, k: number | 'task' = 'task'): number {
  return k === 'task' ? FLIPPING_K_BY_TASK[taskKind] : k;
}

export interface FlippingCurve {
  /** Tokens flipped per step. */
  k: number;
  /** Text tokens (N). */
  n: number;
  /** Model-token positions in the order they are flipped (relevance descending, ties by position). */
  order: number[];
  /** Tokens flipped at each point: 0, k, 2k, ..., N. */
  flipped: number[];
  /** Probability of the answer token at each point (the first is the unmasked p0). */
  p: number[];
  /** Trapezoid area under p over the fraction flipped (flipped / N) in [0, 1]. */
  auc: number;
}

/** The fraction flipped at each point of a curve. */
export const flippedFraction = (c: Pick<FlippingCurve, 'flipped' | 'n'>): number[] => c.flipped.map((f) => f / c.n);

/** Trapezoid area under y over x (x ascending). */
export function trapezoid(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`trapezoid: ${x.length} x for ${y.length} y`);
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

/** The points at which the model is read: 0, k, 2k, ... and N last. */
export function flipSteps(n: number, k: number): number[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k-greedy flipping: k must be a positive integer, got ${k}`);
  const steps: number[] = [];
  for (let f = 0; f < n; f += k) steps.push(f);
  steps.push(n);
  return steps;
}

/**
 * The k-greedy flipping curve of one example and one relevance: `scores` over all model tokens,
 * `textPositions` the tokens that may be flipped. One readout per step; p0 is read unless given.
 */
export async function kGreedyFlipping(
  scores: readonly number[],
  textPositions: readonly number[],
  k: number,
  probAfterMasking: ProbAfterMasking,
  p0?: number,
): Promise<FlippingCurve> {
  const order = rankPositions(scores, textPositions);
  const n = order.length;
  if (n === 0) throw new Error('k-greedy flipping: the text has no tokens');
  const flipped = flipSteps(n, k);
  const p: number[] = [];
  for (const f of flipped) {
    const v = f === 0 && p0 !== undefined ? p0 : await probAfterMasking(order.slice(0, f));
    if (!(v >= 0 && v <= 1)) throw new Error(`k-greedy flipping: p after flipping ${f} tokens must be a probability in [0, 1], got ${v}`);
    p.push(v);
  }
  return { k, n, order, flipped, p, auc: trapezoid(flippedFraction({ flipped, n }), p) };
}

/**
 * A mean curve over examples on a common grid of fractions (default the authors' 21: 0, 0.05, ..., 1):
 * each example's curve is read at each fraction by linear interpolation between its points.
 */
export const FLIP_GRID = Array.from({ length: 21 }, (_, i) => i / 20);

export function curveAt(c: Pick<FlippingCurve, 'flipped' | 'n' | 'p'>, x: number): number {
  const xs = flippedFraction(c);
  if (x <= 0) return c.p[0];
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) return c.p[i - 1] + ((c.p[i] - c.p[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
  }
  return c.p[c.p.length - 1];
}

export function meanCurve(curves: readonly Pick<FlippingCurve, 'flipped' | 'n' | 'p'>[], grid: readonly number[] = FLIP_GRID): { x: number[]; p: number[]; n: number } {
  return {
    x: [...grid],
    p: grid.map((x) => (curves.length ? curves.reduce((s, c) => s + curveAt(c, x), 0) / curves.length : Number.NaN)),
    n: curves.length,
  };
}

/** What a result stores under rawOutputs.flipping: k and each method's curve (its order follows from the stored relevance). */
export interface StoredFlipping {
  k: number;
  curves: Record<string, Pick<FlippingCurve, 'n' | 'flipped' | 'p' | 'auc'>>;
}

/**
 * A run's mean curve per method over its examples' stored curves (one entry per example that has them):
 * the one rule the report and the Results screen share. Methods in the order first met; k as stored.
 */
export function meanCurvesByMethod(stored: readonly StoredFlipping[]): { k: number; curves: { method: string; x: number[]; p: number[]; n: number }[] } | null {
  if (!stored.length) return null;
  const methods = [...new Set(stored.flatMap((f) => Object.keys(f.curves)))];
  return { k: stored[0].k, curves: methods.map((method) => ({ method, ...meanCurve(stored.flatMap((f) => (f.curves[method] ? [f.curves[method]] : []))) })) };
}

/**
 * The curves of every relevance of one example (lrp-*, occlusion, random), in the order given; p0 is read
 * once. Scores must be over all model tokens; `textPositions` are the tokens that may be flipped.
 */
export async function flippingOfRelevances(
  relevances: readonly { method: string; values: ArrayLike<number> }[],
  textPositions: readonly number[],
  k: number,
  probAfterMasking: ProbAfterMasking,
): Promise<StoredFlipping> {
  const curves: StoredFlipping['curves'] = {};
  let p0: number | undefined;
  for (const r of relevances) {
    const c = await kGreedyFlipping(Array.from(r.values), textPositions, k, probAfterMasking, p0);
    p0 = c.p[0];
    curves[r.method] = { n: c.n, flipped: c.flipped, p: c.p, auc: c.auc };
  }
  return { k, curves };
}
