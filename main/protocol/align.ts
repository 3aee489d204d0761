/**
 * Self-explanation items -> character spans of the text: THE matching module. The runner, `predict`, and
 * both importers (generic JSONL, the published study's files) call `alignSelfExplanation`; there is no other
 * copy of these decisions. Two named rules:
 *
 * 'robust' (the workbench's, `alignItems`):
 *   - items are split at commas, semicolons and line breaks (Mixtral returned whole lists as one string),
 *     but not at a comma between digits ("1,000" stays one item); surrounding quotes and punctuation go;
 *   - an item is a sequence of word runs (letters, marks, digits); it matches the same runs in the text,
 *     whole words only ("art" does not match inside "heart"), with any non-word characters between them
 *     ("well-made" = "well made"; "amore" matches inside "l'amore", whose apostrophe separates runs);
 *     failing that, punctuation inside a text word is ignored ("unbearable" = "``un-bear-able''", which
 *     Llama-2 wrote for SST's spelling);
 *   - EXACT first: the comparisons above ignore case only ("Ærlig" = "ærlig"; "è" ≠ "e", "får" ≠ "far").
 *     Only when the item has no exact match anywhere in the text is it compared with accents ignored
 *     ("cafe" -> "Café"). Such spans carry `accentFolded: true` and the item is listed in
 *     `Alignment.accentFolded` (accentFoldNote words it for a result's notes), so a fallback match is
 *     visible in the stored result and the Inspector, never silent;
 *   - occurrences 'first' (default): one occurrence per item, the first one not already marked by an earlier
 *     item, so a repeated item ("good", "good") marks the next occurrence (the first again when all are
 *     used); 'all': every occurrence of the item's tier;
 *   - items found nowhere are kept in `unmatched` and counted, never dropped.
 *
 * 'paper' (Brandl & Eberle's evaluation code, align-paper.ts): items verbatim, lower-cased with non-word
 * characters as spaces, matched as plain substrings of the same normalisation of the text, first occurrence
 * only, every word overlapping the match marked whole. It reproduces the published figures.
 */
import type { CharSpan } from '../datasets/types';
import { fold, phraseRegExp, type FoldStrength, type Folded } from './fold';
import { paperAlignItems } from './align-paper';

export interface AlignedSpan extends CharSpan {
  /** The self-explanation item (after list splitting) that matched. */
  item: string;
  /** The matched text exactly as it is in the input: text.slice(start, end). */
  text: string;
  /** Matched only once accents were ignored (no exact, case-insensitive occurrence of the item exists). */
  accentFolded?: true;
}

export type MatchingRule = 'robust' | 'paper';

export interface Alignment {
  /** The rule that produced this alignment. */
  rule: MatchingRule;
  /** Items after splitting comma-joined lists (robust) or verbatim (paper), in order. */
  items: string[];
  matched: AlignedSpan[];
  /** Items found nowhere in the text: kept and counted, never silently dropped. */
  unmatched: string[];
  /** Items matched only after ignoring accents (robust rule's fallback tier); empty when none. */
  accentFolded: string[];
}

export type Occurrences = 'first' | 'all';

const EDGE = /^[\s"'“”‘’`*.:!?()[\]-]+|[\s"'“”‘’`*.:!?()[\]-]+$/gu;

/**
 * Split the model's items: "a, b, c" becomes three items; surrounding quotes and punctuation go. A comma
 * between digits ("1,000") does not split: it is a thousands separator, and the text has it too.
 */
export function splitItems(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of raw) {
    for (const part of r.split(/(?<!\d),|,(?!\d)|;|\n/u)) {
      const t = part.replace(EDGE, '');
      if (t) out.push(t);
    }
  }
  return out;
}

function occurrencesOf(f: Folded, item: string, strength: FoldStrength, innerPunctuation: boolean): CharSpan[] {
  const re = phraseRegExp(item, strength, innerPunctuation);
  if (!re) return [];
  return [...f.folded.matchAll(re)].map((m) => ({ start: f.startOf[m.index!], end: f.endOf[m.index! + m[0].length - 1] }));
}

/** The tiers, in order; the first that finds the item anywhere in the text decides its occurrences. */
const TIERS: Array<{ strength: FoldStrength; innerPunctuation: boolean }> = [
  { strength: 'case', innerPunctuation: false },
  { strength: 'case', innerPunctuation: true },
  { strength: 'accents', innerPunctuation: false },
  { strength: 'accents', innerPunctuation: true },
];

/** Whether every word character of `span` lies inside one of the spans already marked. */
function alreadyMarked(text: string, span: CharSpan, marked: readonly CharSpan[]): boolean {
  for (let i = span.start; i < span.end; i++) {
    if (!/[\p{L}\p{M}\p{N}]/u.test(text[i])) continue;
    if (!marked.some((m) => m.start <= i && i < m.end)) return false;
  }
  return true;
}

/** The robust rule (see the module comment). */
export function alignItems(text: string, rawItems: readonly string[], occurrences: Occurrences = 'first'): Alignment {
  const items = splitItems(rawItems);
  const exact = fold(text, 'case');
  const loose = fold(text, 'accents');
  const matched: AlignedSpan[] = [];
  const unmatched: string[] = [];
  const accentFolded: string[] = [];
  for (const item of items) {
    let hits: CharSpan[] = [];
    let folded = false;
    for (const t of TIERS) {
      hits = occurrencesOf(t.strength === 'case' ? exact : loose, item, t.strength, t.innerPunctuation);
      folded = t.strength === 'accents';
      if (hits.length) break;
    }
    if (hits.length === 0) {
      unmatched.push(item);
      continue;
    }
    if (folded) accentFolded.push(item);
    const chosen = occurrences === 'all' ? hits : [hits.find((h) => !alreadyMarked(text, h, matched)) ?? hits[0]];
    for (const h of chosen) matched.push({ item, text: text.slice(h.start, h.end), start: h.start, end: h.end, ...(folded ? { accentFolded: true as const } : {}) });
  }
  return { rule: 'robust', items, matched, unmatched, accentFolded };
}

/** The one entry point: the items of a self-explanation aligned to the text under the study's rule. */
export function alignSelfExplanation(text: string, items: readonly string[], opts: { rule?: MatchingRule; occurrences?: Occurrences } = {}): Alignment {
  return (opts.rule ?? 'robust') === 'paper' ? paperAlignItems(text, items) : alignItems(text, items, opts.occurrences ?? 'first');
}

/** A short sentence for a result's notes when the alignment used the accent-folding fallback, else null. */
export function accentFoldNote(a: Alignment): string | null {
  if (a.accentFolded.length === 0) return null;
  const pairs = a.matched.filter((m) => m.accentFolded).map((m) => `${JSON.stringify(m.item)} -> ${JSON.stringify(m.text)}`);
  return `${a.accentFolded.length} item(s) matched only with accents ignored (no exact match in the text): ${[...new Set(pairs)].join(', ')}`;
}

/** 1 for every unit (word or token span) that overlaps any of the spans, else 0. */
export function spansToMask(units: readonly CharSpan[], spans: readonly CharSpan[]): number[] {
  return units.map((u) => (spans.some((s) => u.start < s.end && s.start < u.end && u.start < u.end) ? 1 : 0));
}
