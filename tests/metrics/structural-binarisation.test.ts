/**
 * binarisation.includeStructural: top-k / top-p / one-over-n / fixed-k over the text's tokens (the default, as
 * the study's authors do) or over the text's and the structural tokens (BOS, chat format, instruction, option
 * letters and labels). Every expected mask below is worked out by hand from the scores.
 */
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';
import { describeBinarisation, levelMasks, structuralPositions, tokenRoles, type BinarisationChoice } from '../../main/metrics';

// A Llama-2-style prompt: "<s>[INST] Classify Great film ok (a) positive [/INST]"; the text is "Great film ok".
const tokens = [
  { text: '<s>', segment: 'template' }, // 0 bos
  { text: '[INST]', segment: 'template' }, // 1 chat-format
  { text: ' Classify', segment: 'instruction' }, // 2 instruction
  { text: 'Great', segment: 'text', start: 0, end: 5 }, // 3 text
  { text: ' film', segment: 'text', start: 5, end: 10 }, // 4 text
  { text: ' ok', segment: 'text', start: 10, end: 13 }, // 5 text
  { text: '(a)', segment: 'options' }, // 6 option-letter
  { text: ' positive', segment: 'options' }, // 7 option-label
  { text: '[/INST]', segment: 'template' }, // 8 chat-format
];
const scores = [5, 0.5, 2, 3, -1, 1, 4, 0.2, 0.1];
const units = {
  tokens: tokens.map((t) => (t.segment === 'text' ? { start: t.start!, end: t.end! } : { start: -1, end: -1 })),
  textPositions: [3, 4, 5],
  words: [{ start: 0, end: 5 }, { start: 6, end: 10 }, { start: 11, end: 13 }],
  structuralPositions: structuralPositions(tokens),
};
const ones = (...at: number[]) => Array.from({ length: 9 }, (_, i) => (at.includes(i) ? 1 : 0));
const human = { token: 2, word: 2 };
const masks = (choice: BinarisationChoice) => levelMasks(scores, units, choice, human);

describe('binarisation: structural tokens in the token-level selection', () => {
  it('the structural tokens are every prompt token but the text (and the answer)', () => {
    expect(tokenRoles(tokens)).toEqual(['bos', 'chat-format', 'instruction', 'text', 'text', 'text', 'option-letter', 'option-label', 'chat-format']);
    expect(units.structuralPositions).toEqual([0, 1, 2, 6, 7, 8]);
  });

  it('top-k (k = the human rationale’s 2 tokens): the text’s best two, or BOS and the option letter', () => {
    // text only: scores 3, -1, 1 at 3, 4, 5 -> positions 3 and 5
    expect(masks({ method: 'top-k-human' }).token).toEqual(ones(3, 5));
    expect(masks({ method: 'top-k-human', includeStructural: false }).token).toEqual(ones(3, 5));
    // all nine: 5 (BOS, 0) and 4 ("(a)", 6) outrank the text's best, 3
    expect(masks({ method: 'top-k-human', includeStructural: true }).token).toEqual(ones(0, 6));
  });

  it('fixed-k 1', () => {
    expect(masks({ method: 'fixed-k', k: 1 }).token).toEqual(ones(3));
    expect(masks({ method: 'fixed-k', k: 1, includeStructural: true }).token).toEqual(ones(0));
  });

  it('top-p 50 %: ceil(0.5 x 3) = 2 text tokens, or ceil(0.5 x 9) = 5 of all', () => {
    expect(masks({ method: 'top-p', p: 0.5 }).token).toEqual(ones(3, 5));
    // 5, 4, 3, 2, 1 at positions 0, 6, 3, 2, 5
    expect(masks({ method: 'top-p', p: 0.5, includeStructural: true }).token).toEqual(ones(0, 2, 3, 5, 6));
  });

  it('one-over-n: the share of the positive relevance against 1/n', () => {
    // text only: positive sum 3 + 1 = 4; shares 0.75, (negative), 0.25 against 1/3 -> position 3
    expect(masks({ method: 'one-over-n' }).token).toEqual(ones(3));
    // all nine: positive sum 5 + 0.5 + 2 + 3 + 1 + 4 + 0.2 + 0.1 = 15.8; a share >= 1/9 means a score >= 15.8 / 9
    // = 1.7556: 5, 2, 3, 4 at positions 0, 2, 3, 6 (the text's 1 at position 5 now falls below)
    expect(masks({ method: 'one-over-n', includeStructural: true }).token).toEqual(ones(0, 2, 3, 6));
  });

  it('the word level is the text’s words either way', () => {
    // word scores (max over each word's tokens): 3, -1, 1
    for (const include of [false, true]) {
      expect(masks({ method: 'top-k-human', includeStructural: include }).word).toEqual([1, 0, 1]);
      expect(masks({ method: 'one-over-n', includeStructural: include }).word).toEqual([1, 0, 0]);
    }
  });

  it('the report says which tokens the selection counts', () => {
    expect(describeBinarisation({ method: 'top-k-human' }, 'token')).toBe('the top k text tokens, k = the human rationale’s token count');
    expect(describeBinarisation({ method: 'top-k-human', includeStructural: true }, 'token')).toBe(
      'the top k text and structural tokens (BOS, chat format, instruction, options), k = the human rationale’s token count',
    );
    expect(describeBinarisation({ method: 'top-k-human', includeStructural: true }, 'word')).toBe(describeBinarisation({ method: 'top-k-human' }, 'word'));
  });
});

describe('study config: binarisation.includeStructural', () => {
  const base = { name: 'x', task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ path: '/m/llama.gguf' }] };
  const parse = (binarisation: unknown) => parseStudyConfig({ ...base, binarisation });
  it('recorded when on; off (the default) leaves the configuration as before', () => {
    const on = parse({ method: 'top-p', p: 0.2, includeStructural: true });
    expect(on.ok && on.config.binarisation).toEqual({ method: 'top-p', p: 0.2, includeStructural: true });
    const off = parse({ method: 'top-k-human', includeStructural: false });
    expect(off.ok && off.config.binarisation).toEqual({ method: 'top-k-human' });
    const dflt = parse('one-over-n');
    expect(dflt.ok && dflt.config.binarisation).toEqual({ method: 'one-over-n' });
  });
  it('a non-boolean is refused at its path', () => {
    const bad = parse({ method: 'top-k-human', includeStructural: 'yes' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.path)).toEqual(['binarisation.includeStructural']);
  });
});
