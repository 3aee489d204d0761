/**
 * Binarisation: continuous scores over positions (words or model tokens) -> 0/1 mask.
 *
 * Every function takes an optional `positions` list: the only positions that may be selected
 * (e.g. the text's own tokens, not the chat template). The result always has `scores.length`
 * entries; positions outside the allowed set are 0.
 *
 * Tie rule (top-k, top-p): positions are ranked by score, descending; equal scores are ranked by
 * position, ascending (the earlier token wins). This makes the result independent of sort
 * stability and of the order `positions` is given in.
 */

export type Binarization =
  | { kind: 'top-k'; k: number }
  | { kind: 'top-p'; percent: number }
  | { kind: 'one-over-n' };

function checkScores(scores: readonly number[]): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`binarize: score at position ${i} is ${scores[i]} (not finite)`);
  }
}

/** The allowed positions, validated, de-duplicated and sorted ascending. All positions when omitted. */
export function allowedPositions(n: number, positions?: readonly number[]): number[] {
  if (positions === undefined) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= n) throw new Error(`binarize: position ${p} is outside 0..${n - 1}`);
    set.add(p);
  }
  return [...set].sort((a, b) => a - b);
}

/** Allowed positions ranked by score descending, ties by position ascending. */
export function rankPositions(scores: readonly number[], positions?: readonly number[]): number[] {
  checkScores(scores);
  return allowedPositions(scores.length, positions).sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * The k highest-scoring allowed positions. k larger than the number of allowed positions selects
 * them all; k <= 0 selects none. All-equal scores (e.g. all zero) select the first k positions
 * by the tie rule, so a top-k mask always has exactly min(k, n) ones.
 */
export function topK(scores: readonly number[], k: number, positions?: readonly number[]): number[] {
  if (!Number.isFinite(k)) throw new Error(`binarize: k must be a finite number, got ${k}`);
  const mask = new Array<number>(scores.length).fill(0);
  const ranked = rankPositions(scores, positions);
  const take = Math.max(0, Math.min(Math.floor(k), ranked.length));
  for (let i = 0; i < take; i++) mask[ranked[i]] = 1;
  return mask;
}

/** Number of positions a top-p % selection takes out of n: ceil(p/100 * n), so any p > 0 keeps at least one. */
export function topPercentCount(n: number, percent: number): number {
  if (!(percent >= 0 && percent <= 100)) throw new Error(`binarize: percent must be in [0, 100], got ${percent}`);
  // Round first to absorb floating error (e.g. 10% of 30 = 3.0000000000000004 must give 3, not 4).
  const exact = Math.round((percent / 100) * n * 1e9) / 1e9;
  return Math.ceil(exact);
}

/** Top p % of the allowed positions (count = ceil(p/100 * n_allowed)), same tie rule as top-k. */
export function topPercent(scores: readonly number[], percent: number, positions?: readonly number[]): number[] {
  const n = allowedPositions(scores.length, positions).length;
  return topK(scores, topPercentCount(n, percent), positions);
}

/**
 * The paper's `one_over_n` rule (model_human_comparison.py, select_strategy "one_over_n"),
 * checked against every row of `sst_llama_seed_28_sparsity_oracle_rationales_one_over_n.jsonl`
 * (209 rows) and the Mistral file (257 rows): zero mismatches.
 *
 *   r_i = s_i / sum_{j allowed} max(s_j, 0)      (normalise by the positive relevance of the allowed positions)
 *   selected  <=>  i allowed  and  r_i >= 1/n     (n = number of allowed positions)
 *
 * The reference code uses `>=`; no stored example has a score exactly on the threshold, so the data
 * cannot tell `>=` from `>` and we follow the code. When no allowed score is positive, nothing is
 * selected (the reference divides by zero and all comparisons with NaN/-inf are false).
 * Note the paper normalises by the positive relevance of the text positions only, not of the whole
 * prompt (normalising by the whole prompt mismatches 209/209 Llama rows).
 */
export function oneOverN(scores: readonly number[], positions?: readonly number[]): number[] {
  checkScores(scores);
  const allowed = allowedPositions(scores.length, positions);
  const mask = new Array<number>(scores.length).fill(0);
  const n = allowed.length;
  if (n === 0) return mask;
  let positive = 0;
  for (const p of allowed) positive += Math.max(scores[p], 0);
  if (!(positive > 0)) return mask;
  for (const p of allowed) if (scores[p] / positive >= 1 / n) mask[p] = 1;
  return mask;
}

/** Dispatch on a study's binarisation choice. */
export function binarize(scores: readonly number[], spec: Binarization, positions?: readonly number[]): number[] {
  switch (spec.kind) {
    case 'top-k':
      return topK(scores, spec.k, positions);
    case 'top-p':
      return topPercent(scores, spec.percent, positions);
    case 'one-over-n':
      return oneOverN(scores, positions);
  }
}
