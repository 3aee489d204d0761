/**
 * Character alignment of a token list to a text, for sources whose tokens were produced by a
 * tokenizer from (almost) the same text (mSST's `Span` column). Whitespace is ignored on both
 * sides. When the tokens' characters equal the text's non-whitespace characters the alignment is
 * exact; otherwise (a typo fixed in one place only, `Swimfan` written with back-ticks in the text
 * but apostrophes in the tokens, a dropped full stop) a minimum-edit (Levenshtein) alignment maps
 * each token character to the text character it was substituted for or matched with.
 */

export interface TokenAlignment {
  /** Per token: [start, end) in the text, or null when none of its characters aligned. */
  offsets: ({ start: number; end: number } | null)[];
  /** Number of character edits needed (0 = exact). */
  edits: number;
}

export function alignTokens(text: string, tokens: string[]): TokenAlignment {
  const textPos: number[] = [];
  for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i])) textPos.push(i);
  const textChars = textPos.map((p) => text[p]).join('');
  const tokChars: string[] = [];
  const tokOf: number[] = [];
  tokens.forEach((t, ti) => {
    for (const ch of t) {
      if (/\s/.test(ch)) continue;
      for (let k = 0; k < ch.length; k++) {
        tokChars.push(ch[k]);
        tokOf.push(ti);
      }
    }
  });
  const a = tokChars.join('');
  // charMap[j] = index into textPos aligned to token char j, or -1.
  let charMap: number[];
  let edits = 0;
  if (a === textChars) {
    charMap = tokChars.map((_, j) => j);
  } else {
    ({ map: charMap, edits } = levenshteinMap(a, textChars));
  }
  const offsets: TokenAlignment['offsets'] = tokens.map(() => null);
  charMap.forEach((ti, j) => {
    if (ti < 0) return;
    const tok = tokOf[j];
    const p = textPos[ti];
    const cur = offsets[tok];
    if (cur === null) offsets[tok] = { start: p, end: p + 1 };
    else {
      cur.start = Math.min(cur.start, p);
      cur.end = Math.max(cur.end, p + 1);
    }
  });
  return { offsets, edits };
}

/** Minimum-edit alignment of a to b; map[i] = index in b matched/substituted for a[i], or -1 (deleted). */
function levenshteinMap(a: string, b: string): { map: number[]; edits: number } {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const d = new Uint32Array((n + 1) * w);
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    d[i * w] = i;
    for (let j = 1; j <= m; j++) {
      const sub = d[(i - 1) * w + j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      const del = d[(i - 1) * w + j] + 1;
      const ins = d[i * w + j - 1] + 1;
      d[i * w + j] = Math.min(sub, del, ins);
    }
  }
  const map = new Array<number>(n).fill(-1);
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    const here = d[i * w + j];
    // Prefer the diagonal (match or substitution), so a changed character stays tied to its token.
    if (here === d[(i - 1) * w + j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)) {
      map[i - 1] = j - 1;
      i--;
      j--;
    } else if (here === d[(i - 1) * w + j] + 1) {
      i--;
    } else {
      j--;
    }
  }
  return { map, edits: d[n * w + m] };
}
