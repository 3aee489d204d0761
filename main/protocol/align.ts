import type { CharSpan } from '../datasets/types';
import { fold, phraseRegExp } from './fold';

export interface AlignedSpan extends CharSpan {
  /** The self-explanation item (after list splitting) that matched. */
  item: string;
  /** The matched text exactly as it is in the input: text.slice(start, end). */
  text: string;
}

export interface Alignment {
  /** Items after splitting comma-joined lists, in order. */
  items: string[];
  matched: AlignedSpan[];
  /** Items found nowhere in the text: kept and counted, never silently dropped. */
  unmatched: string[];
}

export type Occurrences = 'first' | 'all';

/**
 * Split the model's items: "a, b, c" (Mixtral returned whole lists as one string) becomes three items;
 * surrounding quotes and punctuation go. A comma between digits ("1,000") does not split.
 */
export function splitItems(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of raw) {
    for (const part of r.split(/(?<!\d),|,(?!\d)|;|\n/u)) {
      const t = part.replace(/^[\s"'“”‘’`*.:!?()[\]-]+|[\s"'“”‘’`*.:!?()[\]-]+$/gu, '');
      if (t) out.push(t);
    }
  }
  return out;
}

/**
 * Map items onto character spans of `text`: case- and accent-insensitive, non-alphanumerics between words
 * treated alike (the paper's "non-alphanumerics to spaces"), whole words only. 'first' marks the first
 * occurrence (the paper); 'all' marks every occurrence.
 */
export function alignItems(text: string, rawItems: readonly string[], occurrences: Occurrences = 'first'): Alignment {
  const items = splitItems(rawItems);
  const f = fold(text);
  const matched: AlignedSpan[] = [];
  const unmatched: string[] = [];
  for (const item of items) {
    const re = phraseRegExp(item);
    const hits = re ? [...f.folded.matchAll(re)] : [];
    if (hits.length === 0) {
      unmatched.push(item);
      continue;
    }
    for (const m of occurrences === 'first' ? hits.slice(0, 1) : hits) {
      const start = f.startOf[m.index!];
      const end = f.endOf[m.index! + m[0].length - 1];
      matched.push({ item, text: text.slice(start, end), start, end });
    }
  }
  return { items, matched, unmatched };
}

/** 1 for every unit (word or token span) that overlaps any of the spans, else 0. */
export function spansToMask(units: readonly CharSpan[], spans: readonly CharSpan[]): number[] {
  return units.map((u) => (spans.some((s) => u.start < s.end && s.start < u.end && u.start < u.end) ? 1 : 0));
}
