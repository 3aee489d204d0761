/**
 * Self-explanation items → the text's whitespace words (the workbench's robust rule):
 *   - items joined by commas or semicolons are split;
 *   - comparison ignores case, accents and every non-alphanumeric character ("un-bear-able" = "unbearable",
 *     "Rørende," = "rørende");
 *   - an item of several words matches the same number of consecutive text words;
 *   - failing that, a one-word item may match an alphanumeric run inside a word ("amore" in "l'amore");
 *   - the first occurrence not already marked is marked; unmatched items are kept and counted.
 */
import type { WordSpan } from '../../datasets/types';

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const runs = (s: string): string[] => fold(s).match(/[\p{L}\p{N}]+/gu) ?? [];
const compact = (s: string) => runs(s).join('');

export interface ItemMatch {
  mask: number[];
  matched: { text: string; start: number; end: number }[];
  unmatched: string[];
}

export function matchItems(text: string, words: WordSpan[], items: string[]): ItemMatch {
  const keys = words.map((w) => compact(w.text));
  const inner = words.map((w) => runs(w.text));
  const mask = words.map(() => 0);
  const matched: ItemMatch['matched'] = [];
  const unmatched: string[] = [];
  const pieces = items.flatMap((it) => it.split(/[,;]/)).map((s) => s.trim()).filter(Boolean);
  const mark = (i: number, len: number) => {
    for (let k = i; k < i + len; k++) mask[k] = 1;
    matched.push({ text: text.slice(words[i].start, words[i + len - 1].end), start: words[i].start, end: words[i + len - 1].end });
  };
  for (const piece of pieces) {
    const k = piece.split(/\s+/).map(compact).filter(Boolean);
    if (k.length === 0) {
      unmatched.push(piece);
      continue;
    }
    let hit: number = -1;
    for (let i = 0; i + k.length <= words.length && hit < 0; i++) {
      if (k.every((w, j) => keys[i + j] === w) && k.some((_, j) => mask[i + j] === 0)) hit = i;
    }
    if (hit < 0 && k.length === 1) {
      hit = inner.findIndex((rs, i) => mask[i] === 0 && rs.length > 1 && rs.includes(k[0]));
    }
    if (hit < 0) unmatched.push(piece);
    else mark(hit, hit >= 0 && keys[hit] === k[0] ? k.length : 1);
  }
  return { mask, matched, unmatched };
}
