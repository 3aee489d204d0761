import { describe, expect, it } from 'vitest';
import type { FilteredMetric, MetricsQueryResult } from '../../main/api/catalogue';
import { GLOSSARY, METRICS, metricGlossary, methodGlossary, metricTooltip } from '../../main/api/vocabulary';
import { columns, faithfulnessRows, formatInterval, formatValue, kappaRows, keyFigures, plotDomain } from '../../renderer/src/lib/results-view';

/**
 * The Results screen's compact view without a browser (issue 12 items 8 and 12): each figure's own label
 * (answer probabilities of a few thousandths were all "0.001"), the κ plot's rows and points with their
 * intervals, the faithfulness plots' rows, the plot domain, the key figures; and the glossary every tooltip
 * reads from (main/metrics/names.ts).
 */
describe('formatValue', () => {
  it('keeps three decimals for ordinary figures and two significant digits for small ones, each its own value', () => {
    expect(formatValue(0.5)).toBe('0.500');
    expect(formatValue(-0.2391)).toBe('-0.239');
    expect(formatValue(0)).toBe('0.000');
    expect(formatValue(123.4)).toBe('123');
    // the demo's answer probabilities: once all "0.001"
    expect([0.00143, 0.00108, 0.00099, 0.00084].map(formatValue)).toEqual(['0.0014', '0.0011', '0.00099', '0.00084']);
    expect(formatValue(null)).toBe('—');
    expect(formatInterval(0.00031, 0.00068)).toBe('0.00031 – 0.00068');
    expect(formatInterval(null, 1)).toBe('');
  });
});

const fig = (runId: number, name: string, scope: Record<string, unknown>, value: number, ci: [number, number] | null = null): FilteredMetric => ({
  id: null, runId, scope, name, value, ciLow: ci ? ci[0] : null, ciHigh: ci ? ci[1] : null, n: 6,
});

function query(): MetricsQueryResult {
  const runs = [
    { runId: 1, studyId: 1, seed: 28, model: 'alpha', indicator: null, languages: ['en'] },
    { runId: 2, studyId: 1, seed: 28, model: 'beta', indicator: null, languages: ['en'] },
  ];
  const metrics = runs.flatMap((r) => {
    const who = { model: r.model, seed: r.seed };
    return [
      fig(r.runId, 'accuracy', who, 0.5),
      fig(r.runId, 'kappa', { ...who, level: 'word', pair: 'human×self' }, 0.2 * r.runId, [0.1, 0.3 * r.runId]),
      fig(r.runId, 'kappa', { ...who, level: 'word', pair: 'human×self', language: 'en' }, 0.9),
      fig(r.runId, 'kappa', { ...who, level: 'word', pair: 'human×random' }, -0.05, [-0.2, 0.1]),
      fig(r.runId, 'kappa', { ...who, level: 'token', pair: 'human×lrp-cp' }, 0.7),
      fig(r.runId, 'comprehensiveness', { ...who, set: 'lrp-cp' }, 0.0005, [0.0003, 0.0007]),
      fig(r.runId, 'sufficiency', { ...who, set: 'random' }, 0.0009),
    ];
  });
  return { facets: { languages: ['en'], indicators: [], models: ['alpha', 'beta'] }, runs, pending: [], source: 'stored', examples: 6, metrics, pooled: [] };
}

describe('plots of the Results screen', () => {
  const cols = columns(query());

  it('κ per method and column: the word-level whole-run figure (not a language’s, not the token level), with its interval', () => {
    const rows = kappaRows(cols);
    expect(rows.map((r) => r.key)).toEqual(['self', 'random']);
    expect(rows[0].label).toBe('self-explanation');
    expect(rows[0].points.map((p) => [p.column.runId, p.value, p.lo, p.hi])).toEqual([
      [1, 0.2, 0.1, 0.3],
      [2, 0.4, 0.1, 0.6],
    ]);
  });

  it('faithfulness per stored figure and method; the domain holds every interval and 0', () => {
    const groups = faithfulnessRows(cols);
    expect(groups.map((g) => [g.name, g.rows.map((r) => r.key)])).toEqual([
      ['comprehensiveness', ['lrp-cp']],
      ['sufficiency', ['random']],
    ]);
    const [lo, hi] = plotDomain(kappaRows(cols), [-1, 1]);
    expect(lo).toBeLessThan(-0.2);
    expect(hi).toBeGreaterThan(0.6);
    expect(hi).toBeLessThanOrEqual(1.05);
  });

  it('key figures: only those some column has', () => {
    expect(keyFigures(cols).map((k) => `${k.name}:${JSON.stringify(k.scope)}`)).toEqual([
      'accuracy:{}',
      'kappa:{"level":"word","pair":"human×self"}',
      'kappa:{"level":"word","pair":"human×random"}',
      'comprehensiveness:{"set":"lrp-cp"}',
    ]);
  });
});

describe('glossary (one table for every tooltip)', () => {
  it('explains the terms the issue names, each with what good looks like', () => {
    const terms = GLOSSARY.map((e) => e.term).join('\n');
    for (const t of ['κ', 'IOU F1', 'AUPRC', 'Comprehensiveness', 'Sufficiency', 'AOPC', 'CP-LRP', 'AttnLRP', 'Plausibility vs faithfulness']) expect(terms).toContain(t);
    for (const e of GLOSSARY) {
      expect(e.meaning.length, e.id).toBeGreaterThan(30);
      expect(e.good.length, e.id).toBeGreaterThan(10);
    }
    expect(new Set(GLOSSARY.map((e) => e.id)).size).toBe(GLOSSARY.length);
  });

  it('every plausibility and faithfulness metric a study can ask for, and every LRP method, has its entry', () => {
    for (const m of METRICS.filter((x) => !['accuracy', 'invalid-rate'].includes(x))) expect(metricGlossary(m), m).toBeDefined();
    for (const m of ['lrp-cp', 'lrp-attn', 'lrp-contrast', 'self', 'human', 'random']) expect(methodGlossary(m), m).toBeDefined();
  });

  it('a number’s tooltip says what good looks like', () => {
    expect(metricTooltip('kappa')).toMatch(/\nGood: 1 = perfect agreement, 0 = no better than chance/);
    expect(metricTooltip('sufficiency')).toMatch(/Good: Lower is more faithful/);
    // a name that could mislead keeps its definition first
    expect(metricTooltip('iou-f1')).toMatch(/^IOU F1 \(ERASER\) — ERASER’s IOU F1: the F1 of the mean partial-match precision/);
  });
});
