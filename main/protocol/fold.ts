/**
 * Case-folded (and, by default, accent-folded) copy of a string that remembers where each folded character
 * came from, so a match in the folded string maps back to exact offsets in the original (UTF-16,
 * end-exclusive).
 *
 * Two strengths, used as two tiers by the self-explanation matching (align.ts):
 *   - 'case' (exact): canonical decomposition (NFD) and lower-case only; accents stay, so "è" ≠ "e",
 *     "får" ≠ "far", but "così" (composed) = "cosi\u0300" (decomposed) and "Ærlig" = "ærlig";
 *   - 'accents' (the default): also drops combining marks, so "É" -> "e", "å" -> "a" ("Æ" -> "æ", "ø" stays:
 *     they have no decomposition).
 * Folding is per code point, so offsets stay exact.
 */
export interface Folded {
  folded: string;
  /** For folded index i: the original offset of the code point it came from. */
  startOf: number[];
  /** For folded index i: the original end offset of that code point. */
  endOf: number[];
}

export type FoldStrength = 'case' | 'accents';

const MARKS = /\p{M}/gu;

export function foldChar(cp: string, strength: FoldStrength = 'accents'): string {
  if (strength === 'case') return cp.normalize('NFD').toLowerCase().normalize('NFD');
  return cp.normalize('NFD').replace(MARKS, '').toLowerCase().normalize('NFD').replace(MARKS, '');
}

export function fold(text: string, strength: FoldStrength = 'accents'): Folded {
  let folded = '';
  const startOf: number[] = [];
  const endOf: number[] = [];
  let offset = 0;
  for (const cp of text) {
    const f = foldChar(cp, strength);
    // A lone combining mark folds to nothing: it belongs to the character before it.
    if (f.length === 0 && endOf.length > 0 && endOf[endOf.length - 1] === offset) {
      for (let i = endOf.length - 1; i >= 0 && endOf[i] === offset; i--) endOf[i] = offset + cp.length;
    }
    for (let i = 0; i < f.length; i++) {
      startOf.push(offset);
      endOf.push(offset + cp.length);
    }
    folded += f;
    offset += cp.length;
  }
  return { folded, startOf, endOf };
}

/**
 * Letters, combining marks and digits: the characters of a word; everything else separates words. (Marks
 * count so that a decomposed "ì" stays one word under the 'case' strength.)
 */
export const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

/** The word runs of a string (after folding): the comparison units of the paper's "non-alphanumerics to spaces". */
export function wordRuns(s: string, strength: FoldStrength = 'accents'): string[] {
  return [...s].map((cp) => foldChar(cp, strength)).join('').match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A regex over folded text (of the same strength) that matches the runs of `phrase` separated by any
 * non-word characters, at word boundaries ("art" does not match inside "heart"). null when the phrase has
 * no letters or digits. `innerPunctuation`: the text may also have punctuation (not spaces) between any two
 * characters of a run, so "unbearable" matches "un-bear-able" and "dont" matches "don't".
 */
export function phraseRegExp(phrase: string, strength: FoldStrength = 'accents', innerPunctuation = false): RegExp | null {
  const runs = wordRuns(phrase, strength);
  if (runs.length === 0) return null;
  const run = (r: string) => (innerPunctuation ? [...r].map(escapeRegExp).join('[^\\p{L}\\p{M}\\p{N}\\s]*') : escapeRegExp(r));
  return new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])${runs.map(run).join('[^\\p{L}\\p{M}\\p{N}]+')}(?![\\p{L}\\p{M}\\p{N}])`, 'gu');
}
