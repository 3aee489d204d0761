/**
 * Mapping self-explanation items onto the text's words, two rules.
 *
 * 'paper': the published study's rule, reconstructed from its evaluation code and checked against
 * its figures (see evaluate.ts). Texts and items are normalised by `paperNormalize` (lower-case, every
 * run of non-word characters -> one space, trimmed). An item matches when its normalised form is a
 * plain *substring* of the normalised text (not whole words: "act" matches inside "actor"); only the
 * first occurrence counts, and every normalised word that overlaps the character range
 * [idx, idx + len(item)] is marked (so a partial word is marked whole). An item that normalises to
 * "" matches at offset 0 and marks the first word. Unmatched items are dropped silently.
 * The mask over normalised words is then mapped back to the whitespace words (split on " ") by
 * `paperAlignToRawWords`: a raw word gets the sum of its normalised pieces; raw words that normalise
 * to nothing ("--") get 0; values are clipped to 0/1 before scoring.
 *
 * 'robust': items are split on commas/semicolons (Mixtral returns one comma-joined string); text and
 * items are compared case- and accent-insensitively (NFD, combining marks removed) as sequences of
 * whole normalised words; the first not-yet-marked occurrence is marked; unmatched items are reported.
 */

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

// ---------------------------------------------------------------------------------------------
// robust rule

/** Lower-case, strip accents (NFD minus combining marks), non-alphanumerics -> spaces, trimmed. */
export function robustNormalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Splits comma/semicolon-joined items, trims, drops empties. */
export function splitItems(items: readonly string[]): string[] {
  return items.flatMap((it) => it.split(/[,;]/)).map((s) => s.trim()).filter((s) => robustNormalize(s) !== '');
}

export interface RobustMatch {
  /** 0/1 per raw word. */
  mask: number[];
  matched: string[];
  unmatched: string[];
}

/**
 * Robust matching over `rawWords` (the whitespace words of the text). Each item, as a sequence of
 * normalised words, must equal a contiguous sequence of the text's normalised word pieces; the first
 * occurrence not already fully marked is used (a repeated item marks the next occurrence), the
 * first occurrence otherwise.
 */
export function robustMatch(rawWords: readonly string[], items: readonly string[]): RobustMatch {
  // flatten raw words into normalised pieces, remembering the raw word of each piece
  const pieces: string[] = [];
  const owner: number[] = [];
  rawWords.forEach((w, i) => {
    for (const p of robustNormalize(w).split(' ')) {
      if (p === '') continue;
      pieces.push(p);
      owner.push(i);
    }
  });
  const mask = new Array<number>(rawWords.length).fill(0);
  const matched: string[] = [];
  const unmatched: string[] = [];
  for (const item of splitItems(items)) {
    const q = robustNormalize(item).split(' ');
    const hits: number[] = [];
    for (let s = 0; s + q.length <= pieces.length; s++) {
      let ok = true;
      for (let k = 0; k < q.length && ok; k++) ok = pieces[s + k] === q[k];
      if (ok) hits.push(s);
    }
    if (hits.length === 0) {
      unmatched.push(item);
      continue;
    }
    const fresh = hits.find((s) => q.some((_, k) => mask[owner[s + k]] === 0));
    const s = fresh ?? hits[0];
    for (let k = 0; k < q.length; k++) mask[owner[s + k]] = 1;
    matched.push(item);
  }
  return { mask, matched, unmatched };
}
