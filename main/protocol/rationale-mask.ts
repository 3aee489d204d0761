/**
 * Word and token masks of a rationale, human or self-explanation, built by ONE rule so the two are
 * comparable token by token (before, the human mask took every token of a marked word, "warm," with its
 * comma, while the self mask took only the tokens of the matched letters).
 *
 * - Word mask: a word (whitespace unit of the text) is in when any of its characters is in a rationale
 *   span (a human span, or a matched self-explanation item).
 * - Token mask: derived from the word mask only. A token is in when it covers a *letter* of a marked word:
 *   a letter, combining mark or digit. Tokens that are pure punctuation attached to a word ("," of "warm,",
 *   the "'" of "l'amore", a "." at the end) are in neither mask; a token that merges punctuation with
 *   letters (", great") is in when its letters are. A word with no letter or digit at all ("😀", "--") is
 *   its own unit: all its characters count. Byte-fallback tokens span the whole character they encode
 *   (offsets.ts), so both halves of "ø" are in or out together.
 */
import type { CharSpan } from '../datasets/types';
import { spansToMask } from './align';

const LETTER = /[\p{L}\p{M}\p{N}]/u;

export interface RationaleMasks {
  word: number[];
  /** Over `tokens`; tokens outside the text (start < 0 or an empty span) are always 0. */
  token: number[];
}

/** Character positions (UTF-16 offsets) that stand for a word: its letters, or all of it when it has none. */
function letterPositions(text: string, w: CharSpan): number[] {
  const all: number[] = [];
  const letters: number[] = [];
  for (let i = w.start; i < w.end; ) {
    const cp = String.fromCodePoint(text.codePointAt(i)!);
    for (let k = 0; k < cp.length; k++) all.push(i + k);
    if (LETTER.test(cp)) for (let k = 0; k < cp.length; k++) letters.push(i + k);
    i += cp.length;
  }
  return letters.length ? letters : all;
}

/** The token mask of a word mask (see the module comment). `tokens` are spans into `text`. */
export function tokenMaskOfWords(text: string, words: readonly CharSpan[], wordMask: readonly number[], tokens: readonly CharSpan[]): number[] {
  if (wordMask.length !== words.length) throw new Error(`tokenMaskOfWords: ${wordMask.length} mask values for ${words.length} words`);
  const marked = new Set<number>();
  words.forEach((w, i) => {
    if (wordMask[i] === 1) for (const p of letterPositions(text, w)) marked.add(p);
  });
  return tokens.map((t) => {
    if (t.start < 0 || t.end <= t.start) return 0;
    for (let p = t.start; p < t.end; p++) if (marked.has(p)) return 1;
    return 0;
  });
}

/** Both masks of a rationale given as character spans of `text`. */
export function rationaleMasks(text: string, words: readonly CharSpan[], spans: readonly CharSpan[], tokens: readonly CharSpan[]): RationaleMasks {
  const word = spansToMask(words, spans);
  return { word, token: tokenMaskOfWords(text, words, word, tokens) };
}
