import { tokenScoresToWordScores, type Span } from '../../../main/api/word-scores';
import type { TokenInfo } from '../../../main/api/records';

export type WordPool = 'max' | 'sum';

/**
 * Continuous relevance per word of the example text: each word pools the relevance of the model
 * tokens overlapping it (the metrics' own tokenScoresToWordScores; 'max' as in the paper, 'sum' for
 * relevance mass). Only text tokens take part: their stored offsets are into the example text, the
 * others' into the prompt, so those get an empty span that overlaps no word (as the runner does).
 */
export function wordRelevance(values: readonly number[], tokens: readonly TokenInfo[], words: readonly Span[], pool: WordPool): number[] {
  const spans = tokens.map((t) => (t.segment === 'text' ? { start: t.start, end: t.end } : { start: -1, end: -1 }));
  return tokenScoresToWordScores(values, spans, words, pool);
}
