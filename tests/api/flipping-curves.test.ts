/**
 * Faithfulness curves over k for the Results screen (issue 12 item 8) through the API: queryMetrics answers each
 * run's mean k-greedy flipping curve per method over the filtered examples. A real study run (real CLI, a tiny
 * generated GGUF, real SQLite); the mean is recomputed here from the stored rawOutputs.flipping, independently of
 * metrics/flipping.ts (each example's curve read at every 5 % of its text by linear interpolation).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsQueryResult } from '../../main/api/catalogue';
import type { ResultRecord } from '../../main/store';
import { runTinyStudy } from '../runner/tiny-study';
import { ok, tempWorkbench } from './helpers';

interface Curve { n: number; flipped: number[]; p: number[]; auc: number }

/** The mean over results of each curve of `method`, at x = 0, 0.05, ..., 1: written out here, not imported. */
function expectedMean(results: ResultRecord[], method: string): number[] {
  const at = (c: Curve, x: number) => {
    const xs = c.flipped.map((f) => f / c.n);
    if (x <= 0) return c.p[0];
    const i = xs.findIndex((v) => v >= x);
    if (i < 0) return c.p[c.p.length - 1];
    return c.p[i - 1] + ((c.p[i] - c.p[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
  };
  const curves = results.map((r) => (r.rawOutputs.flipping as { curves: Record<string, Curve> }).curves[method]);
  return Array.from({ length: 21 }, (_, j) => curves.reduce((s, c) => s + at(c, j / 20), 0) / curves.length);
}

describe('API: k-greedy flipping curves for the Results screen (queryMetrics.flipping)', () => {
  let t: ReturnType<typeof tempWorkbench>;
  let dir = '';
  let runId = 0;
  beforeAll(async () => {
    t = tempWorkbench();
    dir = mkdtempSync(join(tmpdir(), 'rw-api-flip-'));
    const db = t.wb.store.file;
    const r = await runTinyStudy(dir, db, { metrics: ['accuracy', 'prob-drop', 'k-greedy-flipping'], limits: { maxExamples: 4 } }, { threads: 1 });
    runId = t.wb.store.runs.list()[0].id;
  }, 700_000);
  afterAll(() => {
    t?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers each method’s mean curve over the run’s evaluated examples, equal to the mean recomputed from rawOutputs', async () => {
    const q = ok(await t.wb.call('queryMetrics', { runIds: [runId] })) as MetricsQueryResult;
    const results = t.wb.store.results.list(runId).filter((r) => !r.skippedReason && r.rawOutputs.flipping);
    expect(results.length).toBeGreaterThan(1);
    expect(q.flipping).toHaveLength(1);
    const f = q.flipping![0];
    expect(f.runId).toBe(runId);
    expect(f.k).toBe(1);
    expect(f.curves.map((c) => c.method).sort()).toEqual(['lrp-cp', 'random']);
    for (const c of f.curves) {
      expect(c.n).toBe(results.length);
      expect(c.x).toEqual(Array.from({ length: 21 }, (_, j) => j / 20));
      const want = expectedMean(results, c.method);
      c.p.forEach((p, j) => expect(p).toBeCloseTo(want[j], 12));
      // the legend's area is the stored figure of the same method
      expect(q.metrics.some((m) => m.name === 'k-greedy-flipping' && m.scope.method === c.method && m.value !== null)).toBe(true);
    }
  }, 60_000);

  it('follows the filters: "correct only" averages the correct answers’ curves only', async () => {
    const all = t.wb.store.results.list(runId).filter((r) => !r.skippedReason && r.rawOutputs.flipping);
    const correct = all.filter((r) => r.correct === true);
    const q = ok(await t.wb.call('queryMetrics', { runIds: [runId], correct: 'correct' })) as MetricsQueryResult;
    if (!correct.length) {
      expect(q.flipping).toEqual([]);
      return;
    }
    const lrp = q.flipping![0].curves.find((c) => c.method === 'lrp-cp')!;
    expect(lrp.n).toBe(correct.length);
    const want = expectedMean(correct, 'lrp-cp');
    lrp.p.forEach((p, j) => expect(p).toBeCloseTo(want[j], 12));
  }, 60_000);
});
