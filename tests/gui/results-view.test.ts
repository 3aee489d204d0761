import { describe, expect, it } from 'vitest';
import type { FilteredMetric, MetricsQueryResult, PlainResult, PooledModelMetrics } from '../../main/api/catalogue';
import { columns, scopeText, tableRows } from '../../renderer/src/lib/results-view';
import { INVALID_NOTE, isInvalid, selfExplanationView, shownInInspector } from '../../renderer/src/lib/result-notes';

/**
 * The layout rules of the Results table and the Inspector's notes, without a browser (the browser test,
 * results-pooled.test.ts, checks them on screen): which column a pooled figure goes into, that its row
 * follows the seeds' rows of the same figure, reading order, and which results the Inspector pages through.
 */
const fig = (runId: number, name: string, scope: Record<string, unknown>, value: number): FilteredMetric => ({ id: runId * 100 + value, runId, scope, name, value, ciLow: null, ciHigh: null, n: 3 });
const word = { level: 'word', pair: 'human×self' };

function query(): MetricsQueryResult {
  const runs = [
    { runId: 1, studyId: 1, seed: 28, model: 'alpha', indicator: null, languages: ['en'] },
    { runId: 2, studyId: 2, seed: 28, model: 'beta', indicator: null, languages: ['en'] },
    { runId: 3, studyId: 1, seed: 79, model: 'alpha', indicator: null, languages: ['en'] },
  ];
  const metrics: FilteredMetric[] = [];
  for (const r of runs) {
    const who = { model: r.model, seed: r.seed };
    // the engine's order: iou-f1 (derived) last, token level before word level
    metrics.push(fig(r.runId, 'accuracy', who, 1), fig(r.runId, 'kappa', { ...who, level: 'token', pair: 'human×self' }, 2));
    metrics.push(fig(r.runId, 'iou-f1-per-example', { ...who, ...word }, 3), fig(r.runId, 'kappa', { ...who, ...word }, 4), fig(r.runId, 'iou-f1', { ...who, ...word }, 5));
  }
  const pooled: PooledModelMetrics = {
    model: 'alpha',
    indicator: null,
    runIds: [1, 3],
    seeds: [28, 79],
    metrics: [
      { scope: { model: 'alpha', seeds: [28, 79] }, name: 'accuracy', value: 0.5, ciLow: 0.1, ciHigh: 0.9, n: 3 },
      { scope: { model: 'alpha', seeds: [28, 79], ...word }, name: 'kappa', value: 0.25, ciLow: 0, ciHigh: 0.5, n: 3 },
    ],
  };
  return { facets: { languages: ['en'], indicators: [], models: ['alpha', 'beta'] }, runs, pending: [], source: 'stored', examples: 9, metrics, pooled: [pooled] };
}

describe('Results layout (results-view.ts)', () => {
  it('puts a model\'s pooled column right after its last seed, named with the model when several are shown', () => {
    const cols = columns(query());
    expect(cols.map((c) => c.key)).toEqual(['run:1', 'run:2', 'run:3', 'pooled:0']);
    expect(cols[3].label).toBe('alpha · pooled over seeds 28, 79');
  });

  it('lists each figure of a pooled model seed by seed, then pooled; other runs in reading order', () => {
    const rows = tableRows(columns(query()));
    const at = (r: (typeof rows)[number]) => `${r.column.key} ${r.figure.name}${r.figure.scope.level ? `@${r.figure.scope.level}` : ''}`;
    expect(rows.map(at)).toEqual([
      'run:1 accuracy', 'run:3 accuracy', 'pooled:0 accuracy',
      'run:1 kappa@word', 'run:3 kappa@word', 'pooled:0 kappa@word',
      'run:1 iou-f1@word', 'run:3 iou-f1@word',
      'run:1 iou-f1-per-example@word', 'run:3 iou-f1-per-example@word',
      'run:1 kappa@token', 'run:3 kappa@token',
      'run:2 accuracy', 'run:2 kappa@word', 'run:2 iou-f1@word', 'run:2 iou-f1-per-example@word', 'run:2 kappa@token',
    ]);
  });

  it('words a scope with the shared method and pair names', () => {
    expect(scopeText({ model: 'alpha', seeds: [1, 2], level: 'word', pair: 'human×lrp-cp' })).toBe('word level · human × LRP (cp)');
    expect(scopeText({ level: 'token', method: 'lrp-attn' })).toBe('token level · method LRP (attn)');
  });
});

describe('Inspector notes (result-notes.ts)', () => {
  const result = (over: Partial<PlainResult>): PlainResult =>
    ({ id: 1, runId: 1, exampleId: 1, rawOutputs: {}, label: 'positive', correct: true, answerToken: null, answerProb: null, optionProbs: null, selfExplanation: null, alignment: null, tokens: null, masks: null, skippedReason: null, createdAt: '', relevance: [], ...over }) as PlainResult;

  it('pages through evaluated results and invalid answers, not other skips', () => {
    expect(shownInInspector(result({}))).toBe(true);
    expect(shownInInspector(result({ label: 'invalid', correct: false, skippedReason: 'invalid-answer' }))).toBe(true);
    expect(shownInInspector(result({ label: null, skippedReason: 'context-overflow' }))).toBe(false);
    expect(shownInInspector(result({ skippedReason: 'wrong-answer', correct: false }))).toBe(false);
    expect(isInvalid(result({ label: 'invalid', correct: false, skippedReason: 'invalid-answer' }))).toBe(true);
    expect(INVALID_NOTE).toBe('invalid answer — not scored for plausibility');
  });

  it('reads the self-explanation, its unmatched and accent-folded items and the match note', () => {
    const r = result({
      selfExplanation: ['far', 'løn', 'xyz'],
      alignment: { rule: 'robust', items: ['far', 'løn', 'xyz'], matched: [], unmatched: ['xyz'], accentFolded: ['far'] },
      rawOutputs: { matchNote: '1 item(s) matched only with accents ignored (no exact match in the text): "far" -> "får"' },
    });
    expect(selfExplanationView(r)).toEqual({ items: ['far', 'løn', 'xyz'], unmatched: ['xyz'], accentFolded: ['far'], matchNote: r.rawOutputs.matchNote, rule: 'robust' });
    expect(selfExplanationView(result({}))).toBeNull();
  });
});
