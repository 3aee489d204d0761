/**
 * Binarisation at the level being scored. Continuous scores (LRP, occlusion, random) are given per model
 * token; plausibility is scored at two levels, over the text's words and over its model tokens, and each
 * level gets a mask binarised over its own units:
 *
 *   token level: top-k of the text tokens' scores, k = the human rationale's token count;
 *   word level:  the token scores pooled to words first (each word: the maximum over the tokens that
 *                overlap it, the paper's `align_model_to_rationale(pool_func=np.max)`), then top-k of the
 *                words, k = the human rationale's word count.
 *
 * (Expanding the token top-k to the words those tokens touch, as before, selected 2-3x as many words as the
 * human rationale has, since words are often several tokens, so word-level agreement was not size-matched.)
 * Random scores go the same way (one rule for every continuous source), so a word of several tokens is a
 * little more likely to be among the random top-k words (the max of several uniform draws).
 * The other binarisations apply per level the same way: a fixed k counts units of the level, top-p takes p %
 * of the level's units, one-over-n compares each unit's share with 1/n over the level's n units.
 *
 * `includeStructural` (study config `binarisation.includeStructural`, default false as the authors do): at the
 * token level the units are the text's tokens and the prompt's structural tokens (BOS, chat format, instruction,
 * option letters and labels: metrics/token-roles.ts STRUCTURAL_ROLES), so a structural token with high relevance
 * takes one of the k slots (top-k), counts in n (top-p, one-over-n) and in one-over-n's positive sum. The
 * word level is the text's words either way.
 */
import { binarize, type Binarization } from './binarize';
import { tokenScoresToWordScores, type Span } from './plausibility';

export type Level = 'word' | 'token';

/** A study's binarisation choice (the config's `binarisation` field, structurally). */
export interface BinarisationChoice {
  method: 'top-k-human' | 'fixed-k' | 'top-p' | 'one-over-n';
  k?: number;
  /** Fraction in (0, 1]. */
  p?: number;
  /** Token level: select among the structural tokens too (ExampleUnits.structuralPositions); default false. */
  includeStructural?: boolean;
}

/**
 * The binarisation a study's choice means at one level: `humanCount` is the human rationale's size and
 * `units` the number of units (words, or text tokens) at that level.
 */
export function binarisationAt(choice: BinarisationChoice, humanCount: number, units: number): Binarization {
  switch (choice.method) {
    case 'fixed-k':
      return { kind: 'top-k', k: choice.k! };
    case 'top-p':
      return { kind: 'top-p', percent: choice.p! * 100 };
    case 'one-over-n':
      return { kind: 'one-over-n' };
    case 'top-k-human':
      return { kind: 'top-k', k: Math.min(humanCount, units) };
  }
}

/** The units of one example at both levels, as character spans of the example text. */
export interface ExampleUnits {
  /** Every prompt token's span in the example text; tokens outside the text have an empty span (e.g. -1..-1). */
  tokens: readonly Span[];
  /** The prompt positions of the text's own tokens. */
  textPositions: readonly number[];
  /** The prompt positions of the structural tokens (token-roles.ts structuralPositions); used with includeStructural. */
  structuralPositions?: readonly number[];
  words: readonly Span[];
}

/** The positions a token-level mask selects among: the text's tokens, and the structural ones with includeStructural. */
export function tokenLevelPositions(units: ExampleUnits, choice: BinarisationChoice): number[] {
  if (!choice.includeStructural) return [...units.textPositions];
  if (!units.structuralPositions) throw new Error('binarisation.includeStructural needs the prompt\'s structural token positions');
  return [...new Set([...units.textPositions, ...units.structuralPositions])].sort((a, b) => a - b);
}

/** Token scores pooled to words: the maximum over the text tokens that overlap each word (0 for none). */
export function wordScoresOf(tokenScores: readonly number[], units: ExampleUnits): number[] {
  return tokenScoresToWordScores(tokenScores, units.tokens, units.words, 'max');
}

/**
 * Masks of continuous token scores at both levels, each binarised over its own units with the human
 * rationale's size at that level (`human.token`, `human.word`: 1s in the human masks).
 */
export function levelMasks(
  tokenScores: readonly number[],
  units: ExampleUnits,
  choice: BinarisationChoice,
  human: { token: number; word: number },
): { token: number[]; word: number[] } {
  const nText = units.textPositions.length;
  const tokenUnits = tokenLevelPositions(units, choice);
  const token = nText ? binarize(tokenScores, binarisationAt(choice, human.token, tokenUnits.length), tokenUnits) : tokenScores.map(() => 0);
  const ws = wordScoresOf(tokenScores, units);
  const word = ws.length ? binarize(ws, binarisationAt(choice, human.word, ws.length)) : [];
  return { token, word };
}

/** The binarisation at a level in words, for reports: what a continuous method's mask at that level holds. */
export function describeBinarisation(choice: BinarisationChoice, level: Level): string {
  const units = level === 'word' ? 'words' : choice.includeStructural ? 'text and structural tokens (BOS, chat format, instruction, options)' : 'text tokens';
  const pooled = level === 'word' ? 'token scores pooled to words (max over the word’s tokens), then ' : '';
  switch (choice.method) {
    case 'top-k-human':
      return `${pooled}the top k ${units}, k = the human rationale’s ${level === 'word' ? 'word' : 'token'} count`;
    case 'fixed-k':
      return `${pooled}the top ${choice.k} ${units}`;
    case 'top-p':
      return `${pooled}the top ${+(choice.p! * 100).toFixed(6)} % of the ${units}`;
    case 'one-over-n':
      return `${pooled}the ${units} whose share of the positive relevance is at least 1/n (n = number of ${units})`;
  }
}
