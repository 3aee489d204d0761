/**
 * k-greedy flipping in a real study run (real CLI, a tiny generated llama GGUF, real SQLite): every example's
 * curve is stored, each point is a stored masked readout of the text's most relevant tokens (recomputed
 * here from the stored relevance, independently of metrics/flipping.ts), its area is aggregated with an
 * interval, and the report shows the curves and the table.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { positionsKey } from '../../main/protocol/mask';
import { buildReportData } from '../../main/reports/build';
import { renderReportHtml } from '../../main/reports/html';
import { exportData, toJsonl } from '../../main/reports/exports';
import { checkExport } from '../../main/reports/metrics-check';
import { runCli, setup } from './tiny-study';

interface Curve { n: number; flipped: number[]; p: number[]; auc: number }

describe('runner: k-greedy flipping', () => {
  it('stores each relevance’s curve (k = 1 for sentiment), aggregates its area and reports it; relevance shares by token role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-flip-'));
    const db = join(dir, 'flip.sqlite');
    const file = await setup(dir, db);
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.metrics = ['accuracy', 'prob-drop', 'k-greedy-flipping'];
    config.limits = { maxExamples: 3 };
    writeFileSync(file, JSON.stringify(config));
    const r = await runCli(['--db', db, '--json', 'run', file, '--threads', '1'], { timeoutMs: 600_000 });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.status).toBe(0);

    const store = openStore(db);
    try {
      const run = store.runs.list()[0];
      const results = store.results.list(run.id).filter((x) => !x.skippedReason);
      expect(results.length).toBeGreaterThan(0);
      for (const res of results) {
        const f = res.rawOutputs.flipping as { k: number; curves: Record<string, Curve> };
        expect(f.k).toBe(1);
        expect(Object.keys(f.curves).sort()).toEqual(['lrp-cp', 'random']);
        const probs = res.rawOutputs.maskedProbs as Record<string, number>;
        const text = (res.tokens ?? []).flatMap((t, i) => (t.segment === 'text' ? [i] : []));
        for (const rel of res.relevance) {
          const c = f.curves[rel.method];
          const v = Array.from(rel.values);
          // the definition, written out: text tokens by relevance, largest first, ties the earlier first
          const order = [...text].sort((a, b) => v[b] - v[a] || a - b);
          expect(c.n).toBe(text.length);
          expect(c.flipped).toEqual(Array.from({ length: text.length + 1 }, (_, i) => i));
          expect(c.p[0]).toBe(res.answerProb);
          c.flipped.forEach((n, i) => expect(c.p[i]).toBe(probs[positionsKey(order.slice(0, n))]));
          let area = 0;
          for (let i = 1; i < c.p.length; i++) area += (1 / text.length) * (c.p[i] + c.p[i - 1]) / 2;
          expect(c.auc).toBeCloseTo(area, 12);
        }
      }
      const rows = store.metrics.list(run.id).filter((m) => m.name === 'k-greedy-flipping' && m.scope.language === undefined);
      expect(rows.map((m) => m.scope.method).sort()).toEqual(['lrp-cp', 'random']);
      for (const m of rows) {
        const aucs = results.map((res) => (res.rawOutputs.flipping as { curves: Record<string, Curve> }).curves[String(m.scope.method)].auc);
        expect(m.n).toBe(results.length);
        expect(m.value).toBeCloseTo(aucs.reduce((a, b) => a + b, 0) / aucs.length, 12);
        expect(m.ciLow).not.toBeNull();
        expect(m.ciLow!).toBeLessThanOrEqual(m.value!);
      }

      // where relevance lands, by token role: shares of |R| and of positive R sum to 1 over the roles
      const shares = store.metrics.list(run.id).filter((m) => m.name === 'relevance-share' && m.scope.method === 'lrp-cp' && m.scope.language === undefined);
      const abs = shares.filter((m) => m.scope.segment !== undefined);
      const pos = shares.filter((m) => m.scope.of === 'positive');
      expect(abs.map((m) => m.scope.segment).sort()).toEqual(expect.arrayContaining(['chat-format', 'instruction', 'option-label', 'option-letter', 'text']));
      expect(pos.map((m) => m.scope.part).sort()).toEqual(abs.map((m) => m.scope.segment).sort());
      expect(abs.reduce((a, m) => a + m.value!, 0)).toBeCloseTo(1, 6);
      expect(pos.reduce((a, m) => a + m.value!, 0)).toBeCloseTo(1, 6);
      for (const m of [...abs, ...pos]) expect(m.ciLow).not.toBeNull();

      const data = buildReportData(store, [run.id], { now: new Date(0) });
      expect(data.tables.find((t) => t.title === 'Where relevance lands')!.rows.map((r) => r.label)).toContain('LRP (cp): share of positive R on text');
      expect(data.flipping).toHaveLength(1);
      expect(data.flipping![0].k).toBe(1);
      const lrp = data.flipping![0].curves.find((c) => c.method === 'LRP (cp)')!;
      expect(lrp.n).toBe(results.length);
      expect(lrp.x).toHaveLength(21);
      // at x = 0 every curve is p0: the mean curve starts at the mean answer probability
      expect(lrp.p[0]).toBeCloseTo(results.reduce((s, x) => s + x.answerProb!, 0) / results.length, 12);
      expect(data.tables.map((t) => t.title)).toContain('Faithfulness, k-greedy flipping');
      const html = renderReportHtml(data);
      expect(html).toContain('<h2>k-greedy flipping</h2>');
      expect(html).toContain('aria-label="k-greedy flipping');

      // the JSONL export recomputes every curve from its readouts (scripts/metrics-check.ts)
      const jsonl = toJsonl(exportData(store, [run.id]));
      const [check] = await checkExport(jsonl);
      expect(check.problems).toEqual([]);
      // a changed point is found
      const lines = jsonl.split('\n');
      const i = lines.findIndex((l) => l.includes('"flipping"'));
      const row = JSON.parse(lines[i]);
      row.rawOutputs.flipping.curves['lrp-cp'].p[1] += 1e-6;
      lines[i] = JSON.stringify(row);
      const [bad] = await checkExport(lines.join('\n'));
      expect(bad.problems.some((p) => /flipping recomputes to/.test(p))).toBe(true);
    } finally {
      store.close();
    }
  }, 700_000);
});
