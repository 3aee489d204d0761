/**
 * Faithfulness through input masking. The model-facing primitive is a callback
 * `probAfterMasking(positions)`: the probability of the originally generated answer token when the
 * given positions (model-token indices) are replaced by the filler token all at once; `[]` gives the
 * unmasked probability p0. It is written by the protocol developer; here it is only called, so all of
 * this is testable with a hand-made deterministic function.
 */
import { rankPositions, topPercentCount, allowedPositions } from './binarize';

export type ProbAfterMasking = (positions: number[]) => Promise<number>;

function checkProb(p: number, what: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`faithfulness: ${what} must be a probability in [0, 1], got ${p}`);
  return p;
}

const selected = (mask: readonly number[]): number[] => mask.flatMap((v, i) => (v === 1 ? [i] : []));

// ---------------------------------------------------------------------------------------------
// The paper's test

export interface MaskingSetResult {
  /** Number of masked positions. */
  size: number;
  /** Probability of the answer token after masking the set. */
  p: number;
  /** p0 - p: positive when masking the set lowers the answer's probability. */
  drop: number;
}

export interface MaskingTestResult {
  p0: number;
  sets: Record<string, MaskingSetResult>;
}

/**
 * The paper's test as data: p0 and the probabilities after masking each set -> per-set drop.
 * `sizes` is optional bookkeeping (the paper stores `int(scores.sum())` next to each probability).
 */
export function maskingDrops(
  p0: number,
  probs: Record<string, number>,
  sizes: Record<string, number> = {},
): MaskingTestResult {
  checkProb(p0, 'p0');
  const sets: Record<string, MaskingSetResult> = {};
  for (const [name, p] of Object.entries(probs)) {
    checkProb(p, `p after masking "${name}"`);
    sets[name] = { size: sizes[name] ?? Number.NaN, p, drop: p0 - p };
  }
  return { p0, sets };
}

/**
 * Runs the paper's test: each named set (a 0/1 mask over model tokens, or a list of positions) is
 * masked all at once. Sets: human, self-explanation, LRP top-k, random, whole text.
 * p0 is measured with `probAfterMasking([])` unless given.
 */
export async function paperMaskingTest(
  sets: Record<string, readonly number[] | { positions: readonly number[] }>,
  probAfterMasking: ProbAfterMasking,
  p0?: number,
): Promise<MaskingTestResult> {
  const base = p0 ?? checkProb(await probAfterMasking([]), 'p0');
  const probs: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  for (const [name, s] of Object.entries(sets)) {
    const positions = 'positions' in s ? [...s.positions] : selected(s as readonly number[]);
    probs[name] = checkProb(await probAfterMasking(positions), `p after masking "${name}"`);
    sizes[name] = positions.length;
  }
  return maskingDrops(base, probs, sizes);
}

// ---------------------------------------------------------------------------------------------
// ERASER comprehensiveness / sufficiency (DeYoung et al. 2020)

/** Comprehensiveness = p(y|x) - p(y|x \ r): mask the rationale positions. */
export async function comprehensiveness(
  rationale: readonly number[],
  probAfterMasking: ProbAfterMasking,
  p0?: number,
): Promise<number> {
  const base = p0 ?? checkProb(await probAfterMasking([]), 'p0');
  return base - checkProb(await probAfterMasking(selected(rationale)), 'p(y|x\\r)');
}

/**
 * Sufficiency = p(y|x) - p(y|r): keep only the rationale, i.e. mask every position of `positions`
 * (the text's own tokens; the template and question are never masked) that is not in the rationale.
 */
export async function sufficiency(
  rationale: readonly number[],
  positions: readonly number[],
  probAfterMasking: ProbAfterMasking,
  p0?: number,
): Promise<number> {
  const base = p0 ?? checkProb(await probAfterMasking([]), 'p0');
  const keep = new Set(selected(rationale));
  const masked = allowedPositions(rationale.length, positions).filter((p) => !keep.has(p));
  return base - checkProb(await probAfterMasking(masked), 'p(y|r)');
}

export const DEFAULT_AOPC_BINS = [1, 5, 10, 20, 50] as const;

export interface AopcBin {
  percent: number;
  /** Tokens in the bin's rationale: ceil(percent/100 * n), n = number of allowed positions. */
  k: number;
  value: number;
}

export interface AopcResult {
  bins: AopcBin[];
  /** Mean of the per-bin values (DeYoung et al.'s area over the perturbation curve, averaged over bins). */
  aopc: number;
}

/**
 * Comprehensiveness or sufficiency at each bin (top percent% of the allowed positions by score, ties by
 * position as in `topK`) and their mean. One model call per bin plus one for p0 unless given.
 */
export async function aopc(
  kind: 'comprehensiveness' | 'sufficiency',
  scores: readonly number[],
  positions: readonly number[],
  probAfterMasking: ProbAfterMasking,
  opts: { bins?: readonly number[]; p0?: number } = {},
): Promise<AopcResult> {
  const binsPct = opts.bins ?? DEFAULT_AOPC_BINS;
  if (binsPct.length === 0) throw new Error('aopc: no bins');
  const ranked = rankPositions(scores, positions);
  const base = opts.p0 ?? checkProb(await probAfterMasking([]), 'p0');
  const bins: AopcBin[] = [];
  for (const percent of binsPct) {
    const k = Math.min(topPercentCount(ranked.length, percent), ranked.length);
    const mask = new Array<number>(scores.length).fill(0);
    for (let i = 0; i < k; i++) mask[ranked[i]] = 1;
    const value =
      kind === 'comprehensiveness'
        ? await comprehensiveness(mask, probAfterMasking, base)
        : await sufficiency(mask, positions, probAfterMasking, base);
    bins.push({ percent, k, value });
  }
  return { bins, aopc: bins.reduce((s, b) => s + b.value, 0) / bins.length };
}
