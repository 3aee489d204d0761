import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alignItems, extractJson, itemsOf, spansToMask, splitItems } from '../../main/protocol/index';
import { splitWords } from '../../main/datasets/words';
import { paperResponses } from './helpers';

describe('alignItems', () => {
  it('matches case- and accent-insensitively with offsets into the original text', () => {
    const text = 'Ærlig talt er filmen HELT fantastisk, men slutningen på Café Noir var svag.';
    const a = alignItems(text, ['ærlig', 'helt fantastisk', 'cafe noir', 'SVAG', 'kedelig']);
    expect(a.matched.map((m) => m.text)).toEqual(['Ærlig', 'HELT fantastisk', 'Café Noir', 'svag']);
    for (const m of a.matched) expect(text.slice(m.start, m.end)).toBe(m.text);
    expect(a.unmatched).toEqual(['kedelig']);
  });

  it('keeps offsets right when the text itself has combining marks and surrogate pairs', () => {
    const text = 'Un film 😀 cosi\u0300 bello, l\u2019amore è più forte.';
    const a = alignItems(text, ["l'amore", 'così', 'piu'], 'first');
    expect(a.matched.map((m) => m.text)).toEqual(['l\u2019amore', 'cosi\u0300', 'più']);
    for (const m of a.matched) expect(text.slice(m.start, m.end)).toBe(m.text);
  });

  it('marks the first occurrence (paper) or all of them, whole words only', () => {
    const text = 'Good, good and heartfelt: the art is good.';
    expect(alignItems(text, ['good'], 'first').matched.map((m) => m.start)).toEqual([0]);
    expect(alignItems(text, ['good'], 'all').matched.map((m) => m.start)).toEqual([0, 6, 37]);
    expect(alignItems(text, ['art'], 'all').matched.map((m) => m.start)).toEqual([30]);
  });

  it('splits comma-joined lists (Mixtral) but not numbers', () => {
    expect(splitItems(['dull, lifeless, "boring"', '1,000 ways'])).toEqual(['dull', 'lifeless', 'boring', '1,000 ways']);
  });

  // Verbatim-only matching dropped 53 % of Mixtral's items in the reference code.
  it('matches far more of the real Mixtral and Llama-2 items than verbatim matching', () => {
    // Measured on seed 28 (split items matched): Mixtral 0.826, Llama-2 0.749; verbatim single words: Mixtral 8.7 %.
    const minMatched: Record<string, number> = { mixtral: 0.8, llama: 0.72 };
    for (const model of ['mixtral', 'llama']) {
      let verbatim = 0;
      let ours = 0;
      let total = 0;
      let items = 0;
      for (const line of readFileSync(paperResponses(model), 'utf8').split('\n').filter((l) => l.trim())) {
        const d = JSON.parse(line.replace(/\bNaN\b/g, 'null'));
        const parsed = d.rationales ? extractJson(d.rationales) : null;
        if (!parsed) continue;
        let raw: string[];
        try {
          raw = itemsOf(parsed);
        } catch {
          continue;
        }
        const words = new Set(d.content.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').split(' '));
        for (const r of raw) {
          total++;
          if (words.has(r.toLowerCase())) verbatim++;
        }
        const a = alignItems(d.content, raw);
        items += a.items.length;
        ours += a.matched.length;
        expect(a.matched.length + a.unmatched.length).toBe(a.items.length);
      }
      expect(total).toBeGreaterThan(100);
      expect(ours / items).toBeGreaterThan(verbatim / total + 0.05);
      // The rest are paraphrases, kept in `unmatched`.
      expect(ours / items).toBeGreaterThan(minMatched[model]);
    }
  });
});

describe('spansToMask', () => {
  it('maps spans onto words and tokens', () => {
    const text = 'a great film, truly';
    const words = splitWords(text);
    expect(spansToMask(words, [{ start: 2, end: 7 }, { start: 14, end: 19 }])).toEqual([0, 1, 0, 1]);
    expect(spansToMask([{ start: 0, end: 2 }, { start: 2, end: 2 }, { start: 2, end: 5 }], [{ start: 2, end: 7 }])).toEqual([0, 0, 1]);
  });
});
