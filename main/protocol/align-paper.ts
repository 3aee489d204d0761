/**
 * The published study's matching rule ('paper'), reconstructed from its evaluation code
 * (model_human_comparison.py) and checked against its figures (tests/importers/paper.test.ts).
 *
 * Texts and items are normalised by `paperNormalize` (lower-case, every run of non-word characters -> one
 * space, trimmed). An item matches when its normalised form is a plain *substring* of the normalised text
 * (not whole words: "act" matches inside "actor"); only the first occurrence counts, and every normalised
 * word that overlaps the character range [idx, idx + len(item)] is marked (so a partial word is marked
 * whole). An item that normalises to "" matches at offset 0 and marks the first word. Items are not split
 * (Mixtral's comma-joined lists mostly fail). Unmatched items are dropped by the paper; we keep them.
 *
 * The mask over normalised words is mapped back to the whitespace words: a raw word gets the sum of its
 * normalised pieces (`paperAlignToRawWords`), clipped to 0/1 before scoring; equivalently, a raw word is
 * marked when it contains a marked normalised word (`paperAlignItems` gives those as character spans).
 */
import type { Alignment, AlignedSpan } from './align';

/** Python `re.sub(r'\W+', ' ', text.lower()).strip()`; `\W` = not (letter | number | underscore). */
export function paperNormalize(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}_]+/gu, ' ').trim();
}

/** The paper's `binarize_overlap`: a 0/1 mask over `paperNormalize(text).split(' ')`, or null when no match. */
export function paperOverlapMask(text: string, item: string): number[] | null {
  const nA = paperNormalize(text);
  const nB = paperNormalize(item);
  const idx = nA.indexOf(nB);
  if (idx < 0) return null;
  const end = idx + nB.length; // inclusive in the reference code (`i > idx + len(B)` is excluded)
  const mask: number[] = [];
  let start = 0;
  for (const w of nA.split(' ')) {
    const wEnd = start + w.length; // exclusive
    mask.push(w.length > 0 && start <= end && wEnd - 1 >= idx ? 1 : 0);
    start = wEnd + 1;
  }
  return mask;
}

/** The paper's `create_rationale_list`: contiguous runs of gold words joined by spaces. Throws when empty (IndexError there). */
export function paperGoldPhrases(goldMask: readonly number[], rawWords: readonly string[]): string[] {
  const idx = goldMask.flatMap((v, i) => (v === 1 ? [i] : []));
  if (idx.length === 0) throw new PaperRuleError('gold-empty', 'no gold rationale word (IndexError in create_nested_list)');
  const runs: number[][] = [];
  let cur: number[] = [];
  let last = idx[0] - 1;
  for (const n of idx) {
    if (n > last + 1) {
      runs.push(cur);
      cur = [];
    }
    cur.push(n);
    last = n;
  }
  runs.push(cur);
  return runs.map((r) => r.map((i) => rawWords[i]).join(' '));
}

export class PaperRuleError extends Error {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'PaperRuleError';
  }
}

/**
 * The paper's `get_aligned_rationales`: scores over normalised words -> scores over raw words
 * (`text.split(' ')`). Throws PaperRuleError('align') where the reference raises IndexError.
 */
export function paperAlignToRawWords(rawWords: readonly string[], normScores: readonly number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const raw of rawWords) {
    const pieces = paperNormalize(raw.toLowerCase()).split(' ');
    if (pieces.length === 1 && pieces[0] === '') {
      out.push(0);
      continue;
    }
    if (j + pieces.length > normScores.length) throw new PaperRuleError('align', 'normalised words run out (IndexError in get_aligned_rationales)');
    let s = 0;
    for (let k = 0; k < pieces.length; k++) s += normScores[j + k];
    out.push(s);
    j += pieces.length;
  }
  return out;
}

/**
 * Character spans of the normalised words of `text` (the i-th span is `paperNormalize(text).split(' ')[i]`
 * in the original): runs of word characters (letters, digits, "_") after per-character lower-casing.
 */
export function paperWordSpans(text: string): Array<{ start: number; end: number }> {
  const spans: Array<{ start: number; end: number }> = [];
  let offset = 0;
  let open: { start: number; end: number } | null = null;
  for (const cp of text) {
    // lower-casing can split a character ("İ" -> "i" + combining dot): each piece keeps the original offsets
    for (const ch of cp.toLowerCase()) {
      if (/[\p{L}\p{N}_]/u.test(ch)) {
        if (open) open.end = offset + cp.length;
        else open = { start: offset, end: offset + cp.length };
      } else if (open) {
        spans.push(open);
        open = null;
      }
    }
    offset += cp.length;
  }
  if (open) spans.push(open);
  return spans;
}

/** The paper rule as an Alignment: one span per normalised word an item marks (see the module comment). */
export function paperAlignItems(text: string, rawItems: readonly string[]): Alignment {
  const words = paperWordSpans(text);
  const nWords = paperNormalize(text) === '' ? 0 : paperNormalize(text).split(' ').length;
  if (words.length !== nWords) throw new Error(`paper rule: ${words.length} word spans for ${nWords} normalised words`);
  const items = [...rawItems];
  const matched: AlignedSpan[] = [];
  const unmatched: string[] = [];
  for (const item of items) {
    const m = paperOverlapMask(text, item);
    if (!m || !m.includes(1)) {
      unmatched.push(item);
      continue;
    }
    m.forEach((v, i) => {
      if (v === 1) matched.push({ item, text: text.slice(words[i].start, words[i].end), start: words[i].start, end: words[i].end });
    });
  }
  return { rule: 'paper', items, matched, unmatched, accentFolded: [] };
}
