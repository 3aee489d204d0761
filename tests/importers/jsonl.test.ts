/**
 * import-run --format jsonl under the workbench's rules: the study's matching rule, the accent-folding
 * fallback reported on the stored result, one token-mask rule for human and self, and one rule for invalid
 * answers (never correct, self-explanation not scored).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importJsonlRun } from '../../main/importers/jsonl';
import { finalizeRun } from '../../main/runner';
import { openStore } from '../../main/store';
import { studyConfig } from '../store/helpers';

// "A warm, heartfelt film." tokens as a tokenizer might give them: the comma is its own token
const TEXT = 'A warm, heartfelt film.';
const TOKENS = [
  [0, 1],
  [1, 6],
  [6, 7],
  [7, 17],
  [17, 22],
  [22, 23],
].map(([start, end]) => ({ text: TEXT.slice(start, end), start, end }));

function setup(matching: 'paper' | 'robust', lines: object[], labelMap?: Record<string, string | null>) {
  const dir = mkdtempSync(join(tmpdir(), 'rw-jsonl-import-'));
  const file = join(dir, 'runs.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const store = openStore(join(dir, 'w.sqlite'));
  const studyId = store.studies.create(`s ${matching}`, studyConfig({
    name: `s ${matching}`, task: { kind: 'sentiment', ...(labelMap ? { labelMap } : {}) }, dataset: { builtin: 'msst-en' }, models: [{ path: 'm.gguf' }], selfExplanation: { matching },
  }));
  return { store, file, studyId };
}

describe('import-run jsonl', () => {
  it("matches with the study's rule: paper marks the substring's word, robust the whole word", () => {
    for (const [matching, want] of [['paper', [0, 0, 1, 0]], ['robust', [0, 0, 0, 0]]] as const) {
      const { store, file, studyId } = setup(matching, [{ id: 1, text: TEXT, label: 'positive', prediction: 'positive', rationale: [0, 1, 1, 0], selfExplanation: ['art'] }]);
      try {
        const { runId } = importJsonlRun(store, file, { studyId });
        const [r] = store.results.list(runId, { relevance: false });
        expect((r.alignment as { rule: string }).rule).toBe(matching);
        // "art" is inside "heartfelt": the paper's substring rule marks that word; robust finds no whole word
        expect(r.masks!['self/word']).toEqual(want);
      } finally {
        store.close();
      }
    }
  });

  it('reports an item matched only with accents ignored on the stored result', () => {
    const text = 'Min far har en ny bil.';
    const { store, file, studyId } = setup('robust', [{ id: 'da', language: 'da', text, label: 'positive', prediction: 'positive', selfExplanation: ['får', 'bil'] }]);
    try {
      const { runId } = importJsonlRun(store, file, { studyId });
      const [r] = store.results.list(runId, { relevance: false });
      expect(r.alignment).toMatchObject({ rule: 'robust', accentFolded: ['får'], unmatched: [] });
      expect(r.rawOutputs.matchNote).toBe('1 item(s) matched only with accents ignored (no exact match in the text): "får" -> "far"');
      expect(r.masks!['self/word']).toEqual([0, 1, 0, 0, 0, 1]);
    } finally {
      store.close();
    }
  });

  it('builds human and self token masks by one rule: the comma of "warm," is in neither', () => {
    const { store, file, studyId } = setup('robust', [{ id: 1, text: TEXT, label: 'positive', prediction: 'positive', rationale: [0, 1, 1, 0], selfExplanation: ['warm', 'heartfelt'], tokens: TOKENS }]);
    try {
      const { runId } = importJsonlRun(store, file, { studyId });
      const [r] = store.results.list(runId, { relevance: false });
      expect(r.masks!['human/word']).toEqual([0, 1, 1, 0]);
      expect(r.masks!['self/word']).toEqual([0, 1, 1, 0]);
      expect(r.masks!['human/token']).toEqual([0, 1, 0, 1, 0, 0]);
      expect(r.masks!['self/token']).toEqual(r.masks!['human/token']);
    } finally {
      store.close();
    }
  });

  it('an invalid prediction is never correct and its self-explanation is not scored', () => {
    const { store, file, studyId } = setup('robust', [
      { id: 1, text: TEXT, label: 'positive', prediction: 'positive', rationale: [0, 1, 1, 0], selfExplanation: ['warm'] },
      { id: 2, text: 'A dull, slow film.', label: 'invalid', prediction: 'invalid', rationale: [0, 1, 1, 0], selfExplanation: ['film'] },
      // a gold label must be an option of the task (protocol/gold.ts): this one is mapped explicitly
    ], { invalid: 'negative' });
    try {
      const { runId } = importJsonlRun(store, file, { studyId });
      finalizeRun(store, runId);
      const rs = store.results.list(runId, { relevance: false });
      // even a gold label spelled "invalid" does not make an invalid answer correct
      expect(rs[1]).toMatchObject({ label: 'invalid', correct: false, skippedReason: 'invalid-answer' });
      const ms = store.metrics.list(runId);
      const f1 = ms.find((m) => m.name === 'f1' && m.scope.pair === 'human×self' && m.scope.level === 'word' && m.scope.language === undefined)!;
      expect(f1.n).toBe(1); // only the valid answer's self-explanation
      expect(ms.find((m) => m.name === 'accuracy' && m.scope.language === undefined)!.value).toBe(0.5);
    } finally {
      store.close();
    }
  });
});

describe('import-run jsonl: gold labels and predictions under the study task (protocol/gold.ts)', () => {
  it("maps labels as runs made here do: gold \"NEGATIVE\" is the option negative, a prediction \"Positive\" is positive", () => {
    const { store, file, studyId } = setup('robust', [
      { id: 'p1', text: 'Great film.', label: 'positive', prediction: 'Positive' },
      { id: 'p2', text: 'Bad film.', label: 'NEGATIVE', prediction: 'negative' },
    ]);
    try {
      const { runId } = importJsonlRun(store, file, { studyId });
      const rs = store.results.list(runId, { relevance: false });
      expect(rs.map((r) => [r.label, r.correct])).toEqual([['positive', true], ['negative', true]]);
    } finally {
      store.close();
    }
  });

  it('refuses, before storing anything, every gold label and prediction that is not an option of the task, with its row and value', () => {
    const { store, file, studyId } = setup('robust', [
      { id: 'a', text: 'Great film.', label: 'positive', prediction: 'positive' },
      { id: 'b', text: 'Meh film.', label: 'meh', prediction: 'negative' },
      { id: 'c', text: 'I cannot say.', label: 'positive', prediction: 'I cannot answer that' },
    ]);
    try {
      const before = store.datasets.list().length;
      let message = '';
      try {
        importJsonlRun(store, file, { studyId });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain('row 2, field "label": "meh" is not an option of the task nor mapped');
      expect(message).toContain('row 3, field "prediction": "I cannot answer that" is not an option of the task (positive, negative) nor "invalid"');
      expect(store.datasets.list().length).toBe(before);
    } finally {
      store.close();
    }
  });
});
