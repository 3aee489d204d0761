/**
 * Binarisation at the level being scored (issue 10, item 10): word-level masks of continuous scores are
 * top-k over words (token scores pooled to words first, max), with k = the human rationale's word count;
 * token-level masks are top-k over text tokens with k = the human token count.
 */
import { describe, expect, it } from 'vitest';
import { binarisationAt, describeBinarisation, levelMasks, wordScoresOf, type ExampleUnits } from '../../main/metrics';

// "unbelievably good fun" after a 2-token template: words [0,12) [13,17) [18,21)
// tokens: <tpl> <tpl> "un" "believ" "ably" "▁good" "▁fun"  (template tokens have no span in the text)
const units: ExampleUnits = {
  tokens: [
    { start: -1, end: -1 },
    { start: -1, end: -1 },
    { start: 0, end: 2 },
    { start: 2, end: 8 },
    { start: 8, end: 12 },
    { start: 12, end: 17 },
    { start: 17, end: 21 },
  ],
  textPositions: [2, 3, 4, 5, 6],
  words: [
    { start: 0, end: 12 },
    { start: 13, end: 17 },
    { start: 18, end: 21 },
  ],
};
// the template tokens get the largest relevance (as LRP's often do); they are never selected
const scores = [5, 4, 0.9, 0.2, 0.1, 0.8, 0.7];
// human rationale: "unbelievably good" = 2 words, 4 tokens (un, believ, ably, ▁good)
const human = { word: 2, token: 4 };

const ones = (m: number[]) => m.reduce((a, b) => a + b, 0);

describe('levelMasks', () => {
  it('word level: pooled to words, top-k words with k = the human word count (not the token top-k expanded)', () => {
    // word scores (max over overlapping tokens): unbelievably .9, good .8, fun .7
    expect(wordScoresOf(scores, units).map((x) => +x.toFixed(6))).toEqual([0.9, 0.8, 0.7]);
    const m = levelMasks(scores, units, { method: 'top-k-human' }, human);
    expect(m.word).toEqual([1, 1, 0]);
    expect(ones(m.word)).toBe(human.word);
    // token level: top-4 text tokens un .9, good .8, fun .7, believ .2
    expect(m.token).toEqual([0, 0, 1, 1, 0, 1, 1]);
    expect(ones(m.token)).toBe(human.token);
    // what the old rule gave: the token top-4 expanded to the words it touches = all 3 words (1.5x the human 2)
    const expanded = units.words.map((w) => (m.token.some((v, i) => v === 1 && units.tokens[i].start < w.end && w.start < units.tokens[i].end) ? 1 : 0));
    expect(ones(expanded)).toBe(3);
  });
  it('random scores are size-matched the same way', () => {
    const rnd = [0, 0, 0.11, 0.93, 0.42, 0.05, 0.61];
    const m = levelMasks(rnd, units, { method: 'top-k-human' }, { word: 1, token: 2 });
    expect(m.word).toEqual([1, 0, 0]); // word maxima .93, .05, .61
    expect(m.token).toEqual([0, 0, 0, 1, 0, 0, 1]);
  });
  it('k never exceeds the units of the level; no human rationale selects nothing', () => {
    expect(ones(levelMasks(scores, units, { method: 'top-k-human' }, { word: 9, token: 9 }).word)).toBe(3);
    const none = levelMasks(scores, units, { method: 'top-k-human' }, { word: 0, token: 0 });
    expect(ones(none.word) + ones(none.token)).toBe(0);
  });
  it('the other binarisations count the units of the level', () => {
    expect(levelMasks(scores, units, { method: 'fixed-k', k: 1 }, human)).toEqual({ word: [1, 0, 0], token: [0, 0, 1, 0, 0, 0, 0] });
    // top 40 %: ceil(.4 * 3) = 2 words, ceil(.4 * 5) = 2 tokens
    expect(levelMasks(scores, units, { method: 'top-p', p: 0.4 }, human)).toEqual({ word: [1, 1, 0], token: [0, 0, 1, 0, 0, 1, 0] });
    // one-over-n, words: shares .9/2.4, .8/2.4, .7/2.4 all >= 1/3? .375, .333.., .2916 -> [1,1,0]
    // tokens: positive sum 2.7, threshold 1/5: .9/2.7=.33 .2/2.7=.074 .1/2.7=.037 .8/2.7=.296 .7/2.7=.259
    expect(levelMasks(scores, units, { method: 'one-over-n' }, human)).toEqual({ word: [1, 1, 0], token: [0, 0, 1, 0, 0, 1, 1] });
    expect(binarisationAt({ method: 'top-k-human' }, 7, 5)).toEqual({ kind: 'top-k', k: 5 });
  });
  it('describes the rule per level for the report', () => {
    expect(describeBinarisation({ method: 'top-k-human' }, 'word')).toBe(
      'token scores pooled to words (max over the word’s tokens), then the top k words, k = the human rationale’s word count',
    );
    expect(describeBinarisation({ method: 'top-k-human' }, 'token')).toBe('the top k text tokens, k = the human rationale’s token count');
  });
});
