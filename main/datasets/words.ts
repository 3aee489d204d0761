import type { WordSpan } from './types';

/**
 * The whitespace words of `text`, with their offsets (UTF-16 indices, end-exclusive).
 *
 * A word is a maximal run of non-whitespace characters; whitespace is JavaScript's `\s` (Unicode
 * White_Space plus BOM), which matches Python's `str.split()` on the texts we import, so word
 * indices agree with the paper's `gold_label_rationales` and with mSST's English `Span` column.
 * Punctuation stays attached to its word ("film." is one word).
 */
export function splitWords(text: string): WordSpan[] {
  const words: WordSpan[] = [];
  for (const m of text.matchAll(/\S+/gu)) {
    const start = m.index!;
    words.push({ start, end: start + m[0].length, text: m[0] });
  }
  return words;
}
