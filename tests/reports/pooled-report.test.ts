/**
 * Confidence intervals pooled over seeds (issue 10, "Also missing"): three seeds of one model imported as
 * runs of one study (real SQLite, the CLI's own entry point), then the pooled figures through
 * `metrics --json`, queryMetrics (the Results screen) and the report, against an independent
 * recomputation: the pooled mean over all seeds' per-example values, and a cluster bootstrap written out
 * here (resample example ids, take all seeds' results of each drawn example) with the same fixed seed.
 * The report also carries the "Method" section.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryMetrics } from '../../main/api/metrics-query';
import { hashSeed, mulberry32, quantileSorted } from '../../main/metrics';
import { buildReportData } from '../../main/reports/build';
import { renderReportHtml } from '../../main/reports/html';
import { htmlToPdf } from '../../main/reports/pdf';
import { openStore } from '../../main/store';
import { cliInProcess as cli } from '../fixtures/cli-in-process';
import { kappa } from './paper-fixture';
import { studyConfig } from '../store/helpers';

const TEXTS: [string, string, number[]][] = [
  ['A warm and funny film', 'positive', [0, 1, 0, 1, 0]],
  ['Dull slow and far too long', 'negative', [1, 1, 0, 0, 0, 1]],
  ['The acting is wonderful throughout', 'positive', [0, 0, 0, 1, 0]],
  ['A boring plot with flat characters', 'negative', [0, 1, 0, 0, 1, 0]],
  ['I loved every minute of it', 'positive', [0, 1, 0, 0, 0, 0]],
  ['A mess from start to finish', 'negative', [0, 1, 0, 0, 0, 0]],
];
// per seed: the prediction and the self-explanation of each example (null prediction = not answered)
const SEEDS: Record<number, [string | null, string[]][]> = {
  28: [['positive', ['warm', 'funny']], ['negative', ['Dull']], ['positive', ['wonderful', 'acting']], ['negative', ['boring']], ['negative', ['minute']], ['negative', ['mess']]],
  79: [['positive', ['funny']], ['negative', ['slow', 'long']], ['invalid', []], ['negative', ['flat', 'plot']], ['positive', ['loved']], ['negative', ['finish']]],
  96: [['negative', ['film']], ['negative', ['Dull', 'slow', 'long']], ['positive', ['wonderful']], ['negative', ['boring', 'flat']], ['positive', ['loved', 'every']], [null, []]],
};

/** The cluster bootstrap, written out independently of main/metrics: percentile CI of the pooled mean. */
function clusterBootstrap(clusters: number[][], B: number, seed: number): { mean: number; lo: number; hi: number } {
  const flat = clusters.flat();
  const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
  const rand = mulberry32(seed);
  const stats: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    let k = 0;
    for (let i = 0; i < clusters.length; i++) {
      const c = clusters[Math.floor(rand() * clusters.length)];
      for (const v of c) s += v;
      k += c.length;
    }
    stats.push(s / k);
  }
  stats.sort((a, b) => a - b);
  return { mean, lo: quantileSorted(stats, 0.025), hi: quantileSorted(stats, 0.975) };
}

interface Row { scope: Record<string, unknown>; name: string; value: number | null; ciLow: number | null; ciHigh: number | null; n: number | null }
const pick = (rows: Row[], name: string, scope: Record<string, unknown> = {}) =>
  rows.find((m) => m.name === name && m.scope.language === undefined && Object.entries(scope).every(([k, v]) => m.scope[k] === v));

describe('metrics pooled over seeds', () => {
  it('metrics --json, queryMetrics and the report give the pooled mean and the example-resampling interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-pooled-'));
    const db = join(dir, 'w.sqlite');
    const store0 = openStore(db);
    const studyId = store0.studies.create('three seeds', studyConfig({ name: 'three seeds', task: { kind: 'sentiment' }, dataset: { builtin: 'msst-en' }, models: [{ path: 'm.gguf' }], seeds: [28, 79, 96] }));
    store0.close();
    const runIds: number[] = [];
    for (const seed of [28, 79, 96]) {
      const file = join(dir, `seed-${seed}.jsonl`);
      const lines = TEXTS.map(([text, label, rationale], i) => {
        const [prediction, items] = SEEDS[seed][i];
        return JSON.stringify({ id: `s${i + 1}`, text, label, prediction, rationale, ...(prediction && prediction !== 'invalid' ? { selfExplanation: items } : {}), ...(prediction === null ? { skipped: 'context-overflow' } : {}) });
      });
      writeFileSync(file, lines.join('\n') + '\n');
      const imp = await cli(['--db', db, '--json', 'import-run', file, '--format', 'jsonl', '--study', String(studyId), '--model', 'Tiny-LM', '--seed', String(seed)]);
      expect(imp.err).toBe('');
      expect(imp.code).toBe(0);
      runIds.push(JSON.parse(imp.out).runId);
    }

    // the independent reference, from the stored masks and answers
    const store = openStore(db);
    const accClusters = new Map<string, number[]>();
    const kappaClusters = new Map<string, number[]>();
    for (const id of runIds) {
      const run = store.runs.get(id)!;
      const exs = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
      for (const r of store.results.list(id)) {
        const ext = exs.get(r.exampleId)!.externalId;
        if (r.label !== null) accClusters.set(ext, [...(accClusters.get(ext) ?? []), r.correct ? 1 : 0]);
        const h = r.masks?.['human/word'];
        const s = r.masks?.['self/word'];
        if (!r.skippedReason && h && s) kappaClusters.set(ext, [...(kappaClusters.get(ext) ?? []), kappa(h, s)]);
      }
    }
    store.close();
    // accuracy by hand: answered 6 + 6 + 5 = 17 results, correct 5 + 5 + 4 = 14
    // (seed 28 s5 wrong; seed 79 s3 invalid = not correct; seed 96 s1 wrong, s6 not answered)
    expect([...accClusters.values()].flat()).toHaveLength(17);
    expect([...accClusters.values()].flat().reduce((a, b) => a + b, 0)).toBe(14);
    const seedBase = hashSeed(JSON.stringify({ model: 'Tiny-LM', seeds: [28, 79, 96] }));
    const accRef = clusterBootstrap([...accClusters.values()], 1000, hashSeed('accuracy', seedBase));
    expect(accRef.mean).toBeCloseTo(14 / 17, 15);
    // kappa: the groups's per-metric seed is derived from the pooled group key and the metric key
    const kKey = 'word:human×self:kappa';
    const kRef = clusterBootstrap([...kappaClusters.values()], 1000, hashSeed(JSON.stringify(['pooled', '', '', '']) + kKey, seedBase));

    // 1. metrics --json: per-seed rows as before, and the model's pooled rows next to them
    const met = await cli(['--db', db, '--json', 'metrics', String(runIds[1])]);
    expect(met.code).toBe(0);
    const out = JSON.parse(met.out) as { metrics: Row[]; pooled: { model: string; runIds: number[]; seeds: number[]; metrics: Row[] }[] };
    expect(out.pooled).toHaveLength(1);
    const p = out.pooled[0];
    expect(p).toMatchObject({ model: 'Tiny-LM', runIds, seeds: [28, 79, 96] });
    const acc = pick(p.metrics, 'accuracy')!;
    expect(acc.n).toBe(6); // examples, not results
    expect(acc.value).toBeCloseTo(accRef.mean, 15);
    expect(acc.ciLow).toBeCloseTo(accRef.lo, 14);
    expect(acc.ciHigh).toBeCloseTo(accRef.hi, 14);
    expect(acc.ciLow!).toBeLessThan(acc.ciHigh!);
    const k = pick(p.metrics, 'kappa', { level: 'word', pair: 'human×self' })!;
    expect(k.n).toBe(kappaClusters.size);
    expect(k.value).toBeCloseTo(kRef.mean, 14);
    expect(k.ciLow).toBeCloseTo(kRef.lo, 14);
    expect(k.ciHigh).toBeCloseTo(kRef.hi, 14);
    // the per-seed row of the run asked for is unchanged: its own examples only
    const perSeed = pick(out.metrics, 'accuracy')!;
    expect(perSeed.value).toBeCloseTo(5 / 6, 15);

    // 2. queryMetrics: the same pooled figures for the Results screen
    const s2 = openStore(db);
    try {
      const q = queryMetrics(s2, {});
      expect(q.pooled).toHaveLength(1);
      expect(q.pooled[0].seeds).toEqual([28, 79, 96]);
      const qa = pick(q.pooled[0].metrics as Row[], 'accuracy')!;
      expect([qa.value, qa.ciLow, qa.ciHigh, qa.n]).toEqual([acc.value, acc.ciLow, acc.ciHigh, acc.n]);
      // filtered to correct answers: recomputed over those examples only (accuracy 1)
      const qc = queryMetrics(s2, { correct: 'correct' });
      expect(pick(qc.pooled[0].metrics as Row[], 'accuracy')!.value).toBe(1);

      // 3. the report: a pooled column next to the three seeds, and the Method section
      const data = buildReportData(s2, runIds, { now: new Date('2026-01-01T00:00:00Z') });
      const cls = data.tables.find((t) => t.title === 'Classification')!;
      // (each import is its own dataset, so the run columns name it; the pooled column follows the last seed)
      expect(cls.columns).toHaveLength(4);
      expect(cls.columns[2]).toMatch(/ · 96$/);
      expect(cls.columns[3]).toBe('pooled over seeds 28, 79, 96');
      expect(cls.rows[0].cells[3]).toMatchObject({ value: acc.value, ciLow: acc.ciLow, ciHigh: acc.ciHigh, n: 6 });
      const topics = (data.method ?? []).map((m) => m.topic);
      expect(topics).toEqual(['Invalid answers', 'Self-explanations', 'Masking (faithfulness)', 'Cohen’s kappa', 'Binarisation level', 'Metric names', 'Intervals']);
      const html = renderReportHtml(data);
      expect(html).toContain('<h2>Method</h2>');
      expect(html).toContain('IOU F1 (ERASER)');
      expect(html).toContain('IOU F1, mean per example (not ERASER)');
      const pdf = join(dir, 'pooled.pdf');
      await htmlToPdf(html, pdf);
      const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      for (const s of ['Method', 'Invalid answers', 'filler token', 'Binarisation level', 'pooled over seeds', 'cluster bootstrap']) expect(text).toContain(s);
      execFileSync('pdftoppm', ['-png', '-r', '60', pdf, join(dir, 'page')]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.png')).length).toBeGreaterThan(0);
      if (process.env.RW_KEEP_REPORT) execFileSync('cp', ['-r', dir, process.env.RW_KEEP_REPORT]);
    } finally {
      s2.close();
    }
  });
});
