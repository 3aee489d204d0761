/**
 * One rule for human and self-explanation masks (main/protocol/rationale-mask.ts), on real tokenizers
 * (the vocab-only GGUFs of llama.cpp's bundle): a token belongs to a marked word when it covers one of the
 * word's letters; punctuation-only tokens are in neither mask; byte-fallback tokens of a multi-byte
 * character belong to its word together (main/protocol/offsets.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from 'node-llama-cpp';
import { wordMaskToTokenMask } from '../../main/metrics';
import { alignSelfExplanation, rationaleMasks, textTokenSpans, tokenMaskOfWords } from '../../main/protocol/index';
import { splitWords } from '../../main/datasets/words';
import { testLlama, vocabPath } from './helpers';

const models: Record<'llama-spm' | 'llama-bpe', LlamaModel | undefined> = { 'llama-spm': undefined, 'llama-bpe': undefined };

beforeAll(async () => {
  const llama = await testLlama();
  for (const name of Object.keys(models) as (keyof typeof models)[]) models[name] = await llama.loadModel({ modelPath: vocabPath(name), vocabOnly: true });
});
afterAll(async () => {
  for (const m of Object.values(models)) await m?.dispose();
});

/** Character spans of the given whitespace words of `text` (the human rationale as a dataset stores it). */
function wordSpans(text: string, marked: string[]) {
  const words = splitWords(text);
  return words.filter((w) => marked.includes(w.text)).map((w) => ({ start: w.start, end: w.end }));
}

const pieces = (text: string, spans: Array<{ start: number; end: number }>, mask: number[]) => spans.flatMap((s, i) => (mask[i] ? [text.slice(s.start, s.end)] : []));

describe('human and self token masks: one rule', () => {
  it.each(['llama-spm', 'llama-bpe'] as const)('%s: "warm," is the same tokens in both masks, the comma in neither', (name) => {
    const text = 'A warm, funny and charming film.';
    const tokens = textTokenSpans(models[name]!, text);
    const words = splitWords(text);
    const human = rationaleMasks(text, words, wordSpans(text, ['warm,', 'funny', 'charming']), tokens);
    const self = rationaleMasks(text, words, alignSelfExplanation(text, ['warm', 'funny', 'charming']).matched, tokens);
    expect(human.word).toEqual([0, 1, 1, 0, 1, 0]);
    expect(self.word).toEqual(human.word);
    expect(self.token).toEqual(human.token);
    const marked = pieces(text, tokens, human.token);
    expect(marked.join('').replace(/\s/g, '')).toBe('warmfunnycharming');
    const comma = tokens.findIndex((t) => text.slice(t.start, t.end) === ',');
    expect(comma).toBeGreaterThan(0);
    expect(human.token[comma]).toBe(0);
    // the rule it replaces: every token overlapping a marked word, the comma included (the human mask
    // had it, the self mask did not)
    expect(wordMaskToTokenMask(human.word, words, tokens)[comma]).toBe(1);
  });

  it("punctuation inside a word is not a letter; a word without letters is its own unit", () => {
    const text = "L'amore, 😀 e -- basta.";
    const words = splitWords(text);
    const tokens = textTokenSpans(models['llama-bpe']!, text);
    const m = tokenMaskOfWords(text, words, [1, 1, 0, 0, 0], tokens);
    const marked = pieces(text, tokens, m);
    expect(marked.join('')).not.toContain(',');
    expect(marked.join('').replace(/\s/g, '')).toContain('amore');
    expect(marked.join('')).toContain('😀');
    expect(tokenMaskOfWords(text, words, [0, 0, 0, 1, 0], tokens).some((v) => v === 1)).toBe(true); // "--" alone
  });
});

describe('byte-fallback tokens belong to the character and word they encode', () => {
  // llama-bpe writes "Æ" after a space as two tokens: " " + the first byte, then the second byte; Italian
  // "È" the same. llama-spm falls back to bytes for "😀". Before, the first byte token's span stopped before
  // the character (bpe) or was empty (spm), so a mask could hold half a character.
  const cases = [
    { name: 'llama-bpe', lang: 'da', text: 'Filmen foregår på Ærø, og den er rørende.', word: 'Ærø,', item: 'ærø', char: 'Æ' },
    { name: 'llama-bpe', lang: 'it', text: 'Che dire? È bellissimo, davvero.', word: 'È', item: 'è', char: 'È' },
    { name: 'llama-spm', lang: 'da', text: 'Filmen var 😀 og rørende.', word: '😀', item: null, char: '😀' },
  ] as const;

  it.each(cases)('$name, $lang: every token holding bytes of $char spans it, and is in the word\'s masks', ({ name, text, word, item, char }) => {
    const m = models[name]!;
    const tokens = textTokenSpans(m, text);
    const at = text.indexOf(char);
    const end = at + char.length;
    // the tokens that hold bytes of the character: decoded alone they are not whole characters
    const holders = tokens.flatMap((t, i) => (t.start <= at && end <= t.end ? [i] : []));
    const partial = tokens.flatMap((t, i) => (m.detokenize([t.id as never], false).includes('\uFFFD') ? [i] : []));
    expect(partial.length).toBeGreaterThan(0);
    // every byte token next to the character is one of its holders: none is left with an empty span or
    // a span that stops inside the character
    for (const i of partial) {
      if (tokens[i].end > at - 1 && tokens[i].start <= end) expect(holders).toContain(i);
    }
    expect(holders.length).toBeGreaterThan(1);
    expect(tokens.every((t) => t.end > t.start)).toBe(true);
    // the word's masks take all of them, human and self alike
    const words = splitWords(text);
    const human = rationaleMasks(text, words, wordSpans(text, [word]), tokens);
    for (const i of holders) expect(human.token[i]).toBe(1);
    if (item) {
      const self = rationaleMasks(text, words, alignSelfExplanation(text, [item]).matched, tokens);
      expect(self.token).toEqual(human.token);
    }
  });
});
