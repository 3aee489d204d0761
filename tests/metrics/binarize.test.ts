import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { topK, topPercent, topPercentCount, oneOverN, binarize, rankPositions } from '../../main/metrics';
import { parsePythonJson } from '../../main/importers/paper';

const shared = path.resolve(__dirname, '../../..', 'shared');

describe('topK', () => {
  it('selects the k highest scores', () => {
    // ranks: 0.5@1, 0.5@3 (tie -> earlier position first), 0.3@2, 0.1@0; k=2 -> positions 1 and 3
    expect(topK([0.1, 0.5, 0.3, 0.5], 2)).toEqual([0, 1, 0, 1]);
    // negative scores rank normally: -1 > -2 > -3
    expect(topK([-1, -3, -2], 1)).toEqual([1, 0, 0]);
  });
  it('breaks ties by position, ascending', () => {
    expect(topK([1, 1, 1, 1], 2)).toEqual([1, 1, 0, 0]);
    expect(topK([0, 2, 2, 2], 2)).toEqual([0, 1, 1, 0]);
    expect(rankPositions([5, 7, 5, 7])).toEqual([1, 3, 0, 2]);
  });
  it('all-zero scores still select exactly k (the first k positions)', () => {
    expect(topK([0, 0, 0], 2)).toEqual([1, 1, 0]);
  });
  it('k larger than n selects all; k = 0 selects none; fractional k is floored', () => {
    expect(topK([3, 1], 5)).toEqual([1, 1]);
    expect(topK([3, 1], 0)).toEqual([0, 0]);
    expect(topK([3, 1, 2], 1.9)).toEqual([1, 0, 0]);
    expect(topK([], 3)).toEqual([]);
  });
  it('restricts to the given positions, in any order', () => {
    // allowed scores: pos1=1, pos2=5, pos4=2 -> top 2 = pos2, pos4 (pos0=9 is not allowed)
    expect(topK([9, 1, 5, 7, 2], 2, [1, 2, 4])).toEqual([0, 0, 1, 0, 1]);
    expect(topK([9, 1, 5, 7, 2], 2, [4, 2, 1])).toEqual([0, 0, 1, 0, 1]);
    // k > allowed count -> all allowed, nothing else
    expect(topK([9, 1, 5, 7, 2], 10, [1, 2])).toEqual([0, 1, 1, 0, 0]);
  });
  it('rejects bad input', () => {
    expect(() => topK([1, Number.NaN], 1)).toThrow(/position 1/);
    expect(() => topK([1, 2], 1, [2])).toThrow(/outside/);
  });
});

describe('topPercent', () => {
  it('takes ceil(p/100 * n) positions', () => {
    expect(topPercentCount(10, 25)).toBe(3); // 2.5 -> 3
    expect(topPercentCount(30, 10)).toBe(3); // 3.0000000000000004 in floats must still be 3
    expect(topPercentCount(5, 1)).toBe(1); // 0.05 -> 1
    expect(topPercentCount(5, 0)).toBe(0);
    expect(topPercentCount(5, 100)).toBe(5);
    expect(() => topPercentCount(5, 101)).toThrow();
    // scores 0..9, 25% -> 3 highest: positions 9, 8, 7
    expect(topPercent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 25)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // percent of the allowed positions: 4 allowed, 50% -> 2 of them
    expect(topPercent([9, 1, 5, 7, 2], 50, [1, 2, 3, 4])).toEqual([0, 0, 1, 1, 0]);
  });
});

describe('oneOverN (the paper rule)', () => {
  it('normalises by positive relevance of the allowed positions and keeps r >= 1/n', () => {
    // positive sum = 0.5+0.3+0.1+0.1 = 1.0; r = s; threshold 1/5 = 0.2 -> positions 0 (0.5) and 1 (0.3)
    expect(oneOverN([0.5, 0.3, 0.1, -0.2, 0.1])).toEqual([1, 1, 0, 0, 0]);
    // allowed {1,2,3}: positive sum = 0.3+0.1 = 0.4; r = 0.75, 0.25, -0.5; threshold 1/3 -> only position 1
    // (position 0 has the highest score but is outside the text)
    expect(oneOverN([0.5, 0.3, 0.1, -0.2, 0.1], [1, 2, 3])).toEqual([0, 1, 0, 0, 0]);
  });
  it('keeps scores exactly on the threshold (>=, as the reference code)', () => {
    // r = 0.25 each, 1/n = 0.25
    expect(oneOverN([1, 1, 1, 1])).toEqual([1, 1, 1, 1]);
    // r = 0.25, 0.25, 0.5; 1/3 -> only the last
    expect(oneOverN([1, 1, 2])).toEqual([0, 0, 1]);
  });
  it('selects nothing when no allowed score is positive', () => {
    expect(oneOverN([0, 0, 0])).toEqual([0, 0, 0]);
    expect(oneOverN([-1, -2, 0])).toEqual([0, 0, 0]);
    expect(oneOverN([5, -1, -2], [1, 2])).toEqual([0, 0, 0]);
    expect(oneOverN([1, 2], [])).toEqual([0, 0]);
  });
  it('reproduces relevance_lrp_binary of the authors one_over_n files (Llama-2 and Mistral seed 28)', () => {
    const files = [
      'data/paper-responses/sst/llama/oracle/28/sst_llama_seed_28_sparsity_oracle_rationales_one_over_n.jsonl',
      'data/paper-responses/sst/mistral/oracle/28/sst_mistral_seed_28_sparsity_oracle_rationales_one_over_n.jsonl',
    ];
    for (const f of files) {
      const lines = fs.readFileSync(path.join(shared, f), 'utf8').split('\n').filter((l) => l.trim());
      expect(lines.length).toBeGreaterThan(200);
      let selectedTotal = 0;
      let nanRows = 0;
      for (const line of lines) {
        const row = parsePythonJson(line) as { relevance_lrp: number[]; context_mask: number[]; relevance_lrp_binary: number[] };
        const positions = row.context_mask.flatMap((v, i) => (v === 1 ? [i] : []));
        if (row.relevance_lrp.some((v) => Number.isNaN(v))) {
          // Mistral has rows whose stored relevance is NaN: the reference selects nothing there
          // (NaN comparisons are false); we refuse NaN scores with an error instead of guessing.
          expect(row.relevance_lrp_binary.every((v) => v === 0)).toBe(true);
          expect(() => oneOverN(row.relevance_lrp, positions)).toThrow(/not finite/);
          nanRows++;
          continue;
        }
        const mask = oneOverN(row.relevance_lrp, positions);
        expect(mask).toEqual(row.relevance_lrp_binary.map((v) => (v === 1 ? 1 : 0)));
        selectedTotal += mask.reduce((a, b) => a + b, 0);
      }
      expect(selectedTotal).toBeGreaterThan(0);
      // rows checked value by value: all 209 of Llama-2; Mistral's stored relevance is NaN in 230 of 257 rows
      expect(lines.length - nanRows).toBeGreaterThanOrEqual(f.includes('llama') ? 209 : 27);
    }
  });
});

describe('binarize dispatch', () => {
  it('routes to each rule', () => {
    const s = [0.1, 0.6, 0.3];
    expect(binarize(s, { kind: 'top-k', k: 1 })).toEqual([0, 1, 0]);
    expect(binarize(s, { kind: 'top-p', percent: 50 })).toEqual([0, 1, 1]); // ceil(1.5) = 2
    // positive sum 1.0, 1/3 threshold -> 0.6 only
    expect(binarize(s, { kind: 'one-over-n' })).toEqual([0, 1, 0]);
  });
});
