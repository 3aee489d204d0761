import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsQueryResult } from '../../main/api/catalogue';
import { importJsonlRun } from '../../main/importers/jsonl';
import { METRIC_LABEL } from '../../main/metrics/names';
import { buildReportData } from '../../main/reports/build';
import { finalizeRun } from '../../main/runner';
import { ok } from '../api/helpers';
import { chromiumAvailable, openBrowserMode, SCREENS_DIR, type BrowserModeSession } from './harness';
import { studyConfig } from '../store/helpers';

/**
 * Issue 10 in the GUI, in Debian's Chromium against browser mode over a real SQLite file: three seeds of
 * one model imported as runs of one study (the real JSONL importer, the real metrics), then
 *   - the Results screen shows each figure pooled over the seeds next to the per-seed rows, with its
 *     95 % interval and n = examples, and a pooled column in the kappa heatmap;
 *   - metrics are named as the report names them (IOU F1 (ERASER) vs IOU F1 mean per example, AUPRC
 *     (ERASER) vs average precision), from the one label table (main/metrics/names.ts);
 *   - the Inspector shows the accent-folding note next to the self-explanation, and says of an invalid
 *     answer that it is not scored for plausibility.
 * Expected figures: accuracy by hand below; every other value and interval from the API's queryMetrics
 * over the same store (the engine's numbers; this test checks that the screen shows them, where).
 */

// text, gold label, human rationale (0/1 per word)
const TEXTS: [string, string, number[]][] = [
  ['A warm and funny film', 'positive', [0, 1, 0, 1, 0]],
  ['Dull slow and far too long', 'negative', [1, 1, 0, 0, 0, 1]],
  ['The acting is wonderful throughout', 'positive', [0, 0, 0, 1, 0]],
  ['A boring plot with flat characters', 'negative', [0, 1, 0, 0, 1, 0]],
  ['I loved every minute of it', 'positive', [0, 1, 0, 0, 0, 0]],
  ['A mess from start to finish', 'negative', [0, 1, 0, 0, 0, 0]],
  // "far" is not in this text: the robust rule matches it to "får" only with accents ignored (and says so)
  ['Vi får ikke løn', 'negative', [0, 0, 0, 1]],
];
// per seed: prediction and self-explanation of each example (null = not answered, "invalid" = unparsable)
const SEEDS: Record<number, [string | null, string[]][]> = {
  28: [['positive', ['warm', 'funny']], ['negative', ['Dull']], ['positive', ['wonderful', 'acting']], ['negative', ['boring']], ['negative', ['minute']], ['negative', ['mess']], ['negative', ['far', 'løn']]],
  79: [['positive', ['funny']], ['negative', ['slow', 'long']], ['invalid', []], ['negative', ['flat', 'plot']], ['positive', ['loved']], ['negative', ['finish']], ['negative', ['løn']]],
  96: [['negative', ['film']], ['negative', ['Dull', 'slow', 'long']], ['positive', ['wonderful']], ['negative', ['boring', 'flat']], ['positive', ['loved', 'every']], [null, []], ['positive', ['ikke']]],
};

/** One token per word (offsets into the text), and a fixed relevance per token, so AUPRC and AP exist. */
function tokensOf(text: string) {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index!, end: m.index! + m[0].length }));
}
const relevanceOf = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 5) / 4);

/** The Results screen's number format (3 decimals). */
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(3));

describe.skipIf(!chromiumAvailable)('Results and Inspector: pooled figures, metric names, match notes (Chromium)', () => {
  let s: BrowserModeSession;
  let dir = '';
  const runIds: number[] = [];
  let q: MetricsQueryResult;

  beforeAll(async () => {
    s = await openBrowserMode();
    const { store } = s.t.wb;
    dir = mkdtempSync(join(tmpdir(), 'rw-gui-pooled-'));
    const studyId = store.studies.create('three seeds', studyConfig({ name: 'three seeds', task: { kind: 'sentiment' }, dataset: { builtin: 'msst-en' }, models: [{ path: 'm.gguf' }], seeds: [28, 79, 96] }));
    for (const seed of [28, 79, 96]) {
      const file = join(dir, `seed-${seed}.jsonl`);
      const lines = TEXTS.map(([text, label, rationale], i) => {
        const [prediction, items] = SEEDS[seed][i];
        const tokens = tokensOf(text);
        return JSON.stringify({
          id: `s${i + 1}`,
          text,
          label,
          prediction,
          rationale,
          tokens,
          relevance: { 'lrp-cp': relevanceOf(tokens.length, seed + i) },
          ...(prediction && prediction !== 'invalid' ? { selfExplanation: items, faithfulness: { p0: 0.9, sets: { human: 0.3 + 0.05 * i + seed / 1000 } } } : {}),
          ...(prediction === null ? { skipped: 'context-overflow' } : {}),
        });
      });
      writeFileSync(file, lines.join('\n') + '\n');
      const r = importJsonlRun(store, file, { studyId, model: 'Tiny-LM', seed });
      finalizeRun(store, r.runId);
      runIds.push(r.runId);
    }
    q = ok(await s.t.wb.call('queryMetrics', {})) as MetricsQueryResult;
  });
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pooledFig = (name: string, scope: Record<string, unknown> = {}) =>
    q.pooled[0].metrics.find((m) => m.name === name && m.scope.language === undefined && Object.entries(scope).every(([k, v]) => m.scope[k] === v))!;

  it('shows each figure pooled over the seeds next to the per-seed rows, with its interval and n = examples', async () => {
    expect(q.pooled).toHaveLength(1);
    expect(q.pooled[0].seeds).toEqual([28, 79, 96]);
    // accuracy by hand: answered 7 + 7 + 6 = 20 results; correct 6 (seed 28: s5 wrong) + 6 (seed 79: s3 invalid,
    // not correct) + 4 (seed 96: s1 and s7 wrong, s6 not answered) = 16; pooled mean 16/20 over 7 examples
    const acc = pooledFig('accuracy');
    expect(acc.value).toBeCloseTo(16 / 20, 15);
    expect(acc.n).toBe(7);
    expect(acc.ciLow!).toBeLessThan(acc.ciHigh!);

    await s.page.getByRole('tab', { name: 'Results' }).click();
    const table = s.page.getByTestId('metrics-table');
    await table.locator('tr[data-pooled]').first().waitFor();
    // the accuracy rows: the three seeds, then the pooled one right after them
    const accRows = table.locator('tr[data-metric="accuracy"]');
    expect(await accRows.count()).toBe(4);
    const who = await accRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run') ?? `pooled:${tr.getAttribute('data-pooled')}`));
    expect(who).toEqual([...runIds.map(String), 'pooled:28,79,96']);
    const pooledAcc = table.locator('tr[data-pooled="28,79,96"][data-metric="accuracy"]');
    expect(await pooledAcc.locator('td.run').textContent()).toBe('pooled over seeds 28, 79, 96');
    expect(await pooledAcc.locator('.val').textContent()).toBe(fmt(acc.value));
    expect(await pooledAcc.locator('.interval').textContent()).toBe(`${fmt(acc.ciLow)} – ${fmt(acc.ciHigh)}`);
    expect(await pooledAcc.locator('.n').textContent()).toBe('7');
    // laid out in its row (a stray style once lifted the interval cells out of the table)
    const rowBox = (await pooledAcc.boundingBox())!;
    const ciBox = (await pooledAcc.locator('.interval').boundingBox())!;
    expect(ciBox.y).toBeGreaterThanOrEqual(rowBox.y - 0.5);
    expect(ciBox.y + ciBox.height).toBeLessThanOrEqual(rowBox.y + rowBox.height + 0.5);
    // each seed's own row is its stored figure
    for (const id of runIds) {
      const stored = s.t.wb.store.metrics.list(id).find((m) => m.name === 'accuracy' && m.scope.language === undefined)!;
      expect(await table.locator(`tr[data-run="${id}"][data-metric="accuracy"] .val`).textContent()).toBe(fmt(stored.value));
    }
    // word-level kappa human × self: pooled row and the heatmap's pooled column
    const k = pooledFig('kappa', { level: 'word', pair: 'human×self' });
    const kRow = table.locator('tr[data-pooled="28,79,96"][data-metric="kappa"][data-scope="level=word, pair=human×self"]');
    expect(await kRow.locator('.val').textContent()).toBe(fmt(k.value));
    expect(await kRow.locator('.n').textContent()).toBe(String(k.n));
    const heatCell = s.page.getByTestId('plausibility-heatmap').locator('td[data-pair="human×self"][data-pooled="28,79,96"]');
    // the cell's value (its 95 % interval is shown under it since issue 12 item 8)
    expect(await heatCell.locator('.val').textContent()).toBe(fmt(k.value));
    expect(await heatCell.locator('.cell-ci').textContent()).toBe(`${fmt(k.ciLow)} – ${fmt(k.ciHigh)}`);
    // the faithfulness bars: a pooled group after the seeds' groups
    const p = pooledFig('p', { set: 'human' });
    const bars = s.page.getByTestId('faithfulness-bars');
    expect(await bars.locator('.group').allTextContents()).toEqual([...runIds.map((id, i) => `run ${id} · Tiny-LM · seed ${[28, 79, 96][i]}`), 'pooled over seeds 28, 79, 96']);
    expect(await bars.locator('.bar-row[data-set="human"][data-pooled="28,79,96"] .num').textContent()).toBe(fmt(p.value));
    // every pooled figure the engine gives is in the table, with its value
    const shown = await table.locator('tr[data-pooled="28,79,96"]').count();
    expect(shown).toBe(q.pooled[0].metrics.length);
    await s.shot('12-results-pooled');
    // the screen's top and the conventions under the table, at full size for a look
    await s.page.screenshot({ path: join(SCREENS_DIR, '12a-results-pooled-top.png') });
    await s.page.getByTestId('metric-conventions').screenshot({ path: join(SCREENS_DIR, '12b-results-conventions.png') });
  });

  it('names the metrics as the report does: ERASER\'s figures and the others apart', async () => {
    const table = s.page.getByTestId('metrics-table');
    const report = buildReportData(s.t.wb.store, runIds);
    const reportLabels = report.tables.flatMap((t) => t.rows.map((r) => r.label));
    const cases: [string, Record<string, unknown>, string][] = [
      ['iou-f1', { level: 'word', pair: 'human×self' }, 'IOU F1 (ERASER)'],
      ['iou-f1-per-example', { level: 'word', pair: 'human×self' }, 'IOU F1, mean per example (not ERASER)'],
      ['iou-precision', { level: 'word', pair: 'human×self' }, 'IOU precision (ERASER)'],
      ['iou-recall', { level: 'word', pair: 'human×self' }, 'IOU recall (ERASER)'],
      ['auprc', { level: 'token', method: 'lrp-cp' }, 'AUPRC (ERASER)'],
      ['average-precision', { level: 'token', method: 'lrp-cp' }, 'average precision (not ERASER)'],
    ];
    for (const [name, scope, label] of cases) {
      expect(METRIC_LABEL[name]).toBe(label);
      const scopeAttr = Object.entries(scope).map(([k, v]) => `${k}=${v}`).join(', ');
      const row = table.locator(`tr[data-pooled="28,79,96"][data-metric="${name}"][data-scope="${scopeAttr}"]`);
      expect(await row.locator('td.metric').textContent()).toBe(label);
      expect(await row.locator('.val').textContent()).toBe(fmt(pooledFig(name, scope).value));
      // the same name in the report's tables (where the report shows that figure)
      if (!name.startsWith('iou-precision') && !name.startsWith('iou-recall')) expect(reportLabels.some((l) => l.endsWith(`: ${label}`))).toBe(true);
    }
    // ERASER's IOU F1 and the per-example mean are different figures here, and the screen keeps them apart
    const f1 = pooledFig('iou-f1', { level: 'word', pair: 'human×self' }).value!;
    const perEx = pooledFig('iou-f1-per-example', { level: 'word', pair: 'human×self' }).value!;
    expect(Math.abs(f1 - perEx)).toBeGreaterThan(1e-3);
    // the definitions under the table
    const conv = s.page.getByTestId('metric-conventions');
    expect(await conv.textContent()).toContain('trapezoid area under the precision-recall curve');
    expect(await conv.textContent()).toContain('Pooled over seeds');
  });

  it('shows the accent-folding note next to the self-explanation, and an invalid answer as not scored', async () => {
    const { store } = s.t.wb;
    const title = () => s.page.getByTestId('inspector').locator('strong').first();
    await s.page.getByRole('tab', { name: 'Inspector' }).click();
    // seed 28: the first example the Inspector shows is s1; step to s7, whose "far" matched "får" only with accents ignored
    await s.page.getByLabel('Run').selectOption(String(runIds[0]));
    const stored = store.results.list(runIds[0], { relevance: false });
    const s7 = stored.find((r) => store.datasets.example(r.exampleId)!.externalId === 's7')!;
    expect(s7.rawOutputs.matchNote).toMatch(/"far" -> "får"/);
    await title().filter({ hasText: /^s1$/ }).waitFor();
    for (let i = 0; i < 6; i++) await s.page.getByRole('button', { name: 'Next →' }).click();
    await title().filter({ hasText: /^s7$/ }).waitFor();
    const self = s.page.getByTestId('self-explanation');
    expect(await self.locator('.item').allTextContents()).toEqual(['far', 'løn']);
    expect(await self.locator('.item.folded').allTextContents()).toEqual(['far']);
    expect(await s.page.getByTestId('match-note').textContent()).toBe(`Accent-folded match: ${s7.rawOutputs.matchNote}`);
    expect(await s.page.getByTestId('invalid-answer').count()).toBe(0);
    await s.shot('13-inspector-match-note');
    // an example without accent folding has no note
    await s.page.getByRole('button', { name: '← Previous' }).click();
    await title().filter({ hasText: /^s6$/ }).waitFor();
    expect(await s.page.getByTestId('match-note').count()).toBe(0);

    // seed 79: s3's answer is invalid; it is shown (it was answered), counted wrong, and said not to be scored
    await s.page.getByLabel('Run').selectOption(String(runIds[1]));
    const inv = store.results.list(runIds[1], { relevance: false }).find((r) => r.label === 'invalid')!;
    expect(store.datasets.example(inv.exampleId)!.externalId).toBe('s3');
    expect(inv.skippedReason).toBe('invalid-answer');
    await title().filter({ hasText: /^s1$/ }).waitFor();
    await s.page.getByText('example 1 of 7', { exact: true }).waitFor();
    await s.page.getByRole('button', { name: 'Next →' }).click();
    await s.page.getByRole('button', { name: 'Next →' }).click();
    await title().filter({ hasText: /^s3$/ }).waitFor();
    expect(await s.page.getByTestId('invalid-answer').textContent()).toBe('invalid answer — not scored for plausibility');
    expect(await s.page.getByTestId('inspector').textContent()).toContain('(wrong)');
    await s.shot('13b-inspector-invalid');
  });

  it('had no page errors', () => {
    expect(s.pageErrors).toEqual([]);
  });
});
