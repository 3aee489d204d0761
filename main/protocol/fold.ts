/**
 * Case- and accent-folded copy of a string that remembers where each folded character came from, so a
 * match in the folded string maps back to exact offsets in the original (UTF-16, end-exclusive).
 * Folding: NFD, drop combining marks, lower-case (per code point, so "É" -> "e", "å" -> "a", "Æ" -> "æ").
 */
export interface Folded {
  folded: string;
  /** For folded index i: the original offset of the code point it came from. */
  startOf: number[];
  /** For folded index i: the original end offset of that code point. */
  endOf: number[];
}

const MARKS = /\p{M}/gu;

export function foldChar(cp: string): string {
  return cp.normalize('NFD').replace(MARKS, '').toLowerCase().normalize('NFD').replace(MARKS, '');
}

export function fold(text: string): Folded {
  let folded = '';
  const startOf: number[] = [];
  const endOf: number[] = [];
  let offset = 0;
  for (const cp of text) {
    const f = foldChar(cp);
    // A lone combining mark folds to nothing: it belongs to the character before it.
    if (f.length === 0 && endOf.length > 0 && endOf[endOf.length - 1] === offset) endOf[endOf.length - 1] = offset + cp.length;
    for (let i = 0; i < f.length; i++) {
      startOf.push(offset);
      endOf.push(offset + cp.length);
    }
    folded += f;
    offset += cp.length;
  }
  return { folded, startOf, endOf };
}

/** Letters and digits (after folding); everything else separates words. */
export const WORD_CHAR = /[\p{L}\p{N}]/u;

/** The alphanumeric runs of a folded string: the comparison units of the paper's "non-alphanumerics to spaces". */
export function wordRuns(s: string): string[] {
  return foldChar(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A regex over folded text that matches the runs of `phrase` separated by any non-alphanumerics, at word
 * boundaries ("art" does not match inside "heart"). null when the phrase has no letters or digits.
 */
export function phraseRegExp(phrase: string): RegExp | null {
  const runs = wordRuns(phrase);
  if (runs.length === 0) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}])${runs.map(escapeRegExp).join('[^\\p{L}\\p{N}]+')}(?![\\p{L}\\p{N}])`, 'gu');
}
