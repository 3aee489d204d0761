import type { CharSpan, RationaleSpan, WordSpan } from './types';

/**
 * Conversions between the two forms of a human rationale the store keeps: a 0/1 mask over the
 * text's whitespace words, and character spans. A word belongs to the rationale when any span
 * overlaps it (so a span covering part of "film." selects the word "film.").
 */

/** One span per selected word, covering exactly that word's characters. */
export function maskToSpans(words: WordSpan[], mask: number[], label?: string): RationaleSpan[] {
  const spans: RationaleSpan[] = [];
  mask.forEach((m, i) => {
    if (m === 1) spans.push(label === undefined ? { start: words[i].start, end: words[i].end } : { start: words[i].start, end: words[i].end, label });
  });
  return spans;
}

export function spansToMask(words: WordSpan[], spans: CharSpan[]): number[] {
  return words.map((w) => (spans.some((s) => s.start < w.end && s.end > w.start) ? 1 : 0));
}

/** Reason a span is invalid for a text of `length` UTF-16 units, or null when it is fine. */
export function spanProblem(span: CharSpan, length: number): string | null {
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end)) return `span [${start}, ${end}] has non-integer offsets`;
  if (start < 0 || end > length) return `span [${start}, ${end}] lies outside the text (length ${length})`;
  if (start >= end) return `span [${start}, ${end}] is empty or reversed (start must be < end)`;
  return null;
}

/** A word without the punctuation and symbols around it ("months," -> "months", "«noioso.»" -> "noioso"). */
const core = (w: string) => w.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '');

/**
 * Marks listed words in the text's words. A listed word matches a whitespace word of the text exactly, or,
 * when no unmarked word matches exactly, with the punctuation around both left out (so "months" marks
 * "months," in the text); repeated words take successive occurrences (searching forward from the previous
 * match first, then from the start), so ["good", "good"] marks two different "good"s.
 * Returns the mask, or the first listed word that cannot be placed.
 */
export function wordsToMask(words: WordSpan[], listed: string[]): { mask: number[] } | { missing: string } {
  const mask = words.map(() => 0);
  let from = 0;
  const find = (same: (x: WordSpan) => boolean) => {
    const i = words.findIndex((x, j) => j >= from && mask[j] === 0 && same(x));
    return i >= 0 ? i : words.findIndex((x, j) => mask[j] === 0 && same(x));
  };
  for (const w of listed) {
    let idx = find((x) => x.text === w);
    if (idx < 0 && core(w) !== '') idx = find((x) => core(x.text) === core(w));
    if (idx < 0) return { missing: w };
    mask[idx] = 1;
    from = idx + 1;
  }
  return { mask };
}
