/**
 * The self-consistency tests in a real study run (real CLI, a tiny generated llama GGUF, real SQLite): every
 * stored verdict is re-derived here from the stored answers (independently of metrics/self-consistency.ts),
 * the per-run shares are the means of the stored verdicts, two runs give the same bits, the report has the
 * section (table and figure), and the study form's preview shows the three extra prompts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previewPrompt } from '../../main/api/preview';
import { generateModel } from '../../main/gguf/generate';
import { buildReportData } from '../../main/reports/build';
import { renderReportHtml } from '../../main/reports/html';
import { openStore, type ResultRecord } from '../../main/store';
import { runCli, runTinyStudy } from './tiny-study';

interface Answer { status: string; label: string | null; response: string; answerProb: number | null; optionProbs: Record<string, number | null> }
interface Stored {
  redaction: { text: string; redacted: string[]; before: { label: string; prob: number }; after: Answer; pOriginalAfter: number | null; selfConsistent: boolean | null };
  counterfactual: { target: string; request: string; raw: string; edit: string; editDistance: number; after: Answer; selfConsistent: boolean | null };
  biasing: { hint: string; hinted: string; after: Answer; moved: boolean | null; explanation: { status: string; items: string[] } | null; mentioned: string[]; mentions: boolean | null; unfaithful: boolean | null };
}

/** Edit distance written out (a plain O(nm) table), to check the stored one. */
function lev(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const OTHER: Record<string, string> = { positive: 'negative', negative: 'positive' };
const LETTER: Record<string, string> = { positive: 'a', negative: 'b' };

async function studyRun(dir: string) {
  const db = join(dir, 'sc.sqlite');
  // generator seed 4: its random weights write non-empty item lists under the extractive grammar (tests/runner/matching.test.ts)
  const model = join(dir, 'tiny4.gguf');
  await generateModel({ path: model, seed: 4, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
  const r = await runTinyStudy(dir, db, {
    // constrained: turn 1 and the re-asked questions are sampled (temperature 0.6) under the seed, so the
    // same-bits check covers sampling; this model and seed give a moved answer and a self-consistent edit
    models: [{ path: model, mode: 'constrained' }],
    explanations: ['human', 'self'],
    metrics: ['accuracy'],
    limits: { maxExamples: 5 },
    selfConsistency: ['redaction', 'counterfactual', 'biasing'],
  }, { threads: 1 });
  expect(r.stderr).not.toMatch(/error:/);
  expect(r.status).toBe(0);
  return { db, config: r.config };
}

describe('runner: self-consistency tests', () => {
  it('stores each test’s answers and verdicts, consistent with the stored answers; same bits twice; reported', async () => {
    const a = await studyRun(mkdtempSync(join(tmpdir(), 'rw-sc-a-')));
    const b = await studyRun(mkdtempSync(join(tmpdir(), 'rw-sc-b-')));
    const store = openStore(a.db);
    const storeB = openStore(b.db);
    try {
      const run = store.runs.list()[0];
      const all = store.results.list(run.id);
      const results = all.filter((x) => !x.skippedReason);
      expect(results.length).toBeGreaterThan(0);
      // skipped examples were not asked again
      for (const x of all.filter((y) => y.skippedReason)) expect(x.rawOutputs.selfConsistency).toBeUndefined();
      const examples = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
      // the mention check ran on at least one biased self-explanation
      expect(results.filter((res) => checkExample(res, examples.get(res.exampleId)!.text)).length).toBeGreaterThan(0);

      // both outcomes occur: the verdicts above were checked on true and on false
      const verdicts = results.flatMap((x) => {
        const v = x.rawOutputs.selfConsistency as Stored;
        return [v.counterfactual.selfConsistent, v.biasing.moved];
      });
      expect(verdicts).toContain(true);
      expect(verdicts).toContain(false);

      // determinism: the second run stored the same bits
      const other = storeB.results.list(storeB.runs.list()[0].id);
      expect(other.map((x) => JSON.stringify(x.rawOutputs.selfConsistency ?? null))).toEqual(all.map((x) => JSON.stringify(x.rawOutputs.selfConsistency ?? null)));

      // per-run shares: the mean of the stored verdicts, with an interval
      const ms = store.metrics.list(run.id).filter((m) => m.scope.test !== undefined && m.scope.language === undefined);
      const sc = results.map((r) => r.rawOutputs.selfConsistency as Stored);
      const mean = (xs: (boolean | null)[]) => {
        const v = xs.filter((x): x is boolean => x !== null);
        return { value: v.filter(Boolean).length / v.length, n: v.length };
      };
      const expectRow = (test: string, name: string, xs: (boolean | null)[]) => {
        const row = ms.find((m) => m.scope.test === test && m.name === name)!;
        const e = mean(xs);
        expect(row.n).toBe(e.n);
        expect(row.value).toBeCloseTo(e.value, 12);
        expect(row.ciLow).not.toBeNull();
      };
      expectRow('redaction', 'self-consistent', sc.map((s) => s.redaction.selfConsistent));
      expectRow('counterfactual', 'self-consistent', sc.map((s) => s.counterfactual.selfConsistent));
      expectRow('biasing', 'hint-followed', sc.map((s) => s.biasing.moved));
      expectRow('biasing', 'hint-unfaithful', sc.map((s) => s.biasing.unfaithful));
      const dist = ms.find((m) => m.scope.test === 'counterfactual' && m.name === 'edit-distance')!;
      expect(dist.value).toBeCloseTo(sc.reduce((s, x) => s + x.counterfactual.editDistance, 0) / sc.length, 12);

      // the report: a table and the figure of the three headline shares
      const data = buildReportData(store, [run.id], { now: new Date(0) });
      const table = data.tables.find((t) => t.title === 'Self-consistency tests')!;
      expect(table.rows.map((r) => r.label)).toEqual(expect.arrayContaining(['Redaction: share self-consistent', 'Counterfactual: share self-consistent', 'Biasing feature: share unfaithful (followed the hint, did not mention it)']));
      expect(data.selfConsistency).toHaveLength(1);
      expect(data.selfConsistency![0].bars.map((x) => `${x.test}: ${x.what}`)).toEqual(['Redaction: self-consistent', 'Counterfactual: self-consistent', 'Biasing feature: unfaithful']);
      const html = renderReportHtml(data);
      expect(html).toContain('<h2>Self-consistency tests</h2>');
      expect(html).toContain('aria-label="self-consistency tests"');
      expect(html).toContain('<dt>Self-consistency tests</dt>');

      // the study form's preview: the three extra prompts in the model's chat template
      const modelId = store.models.list()[0].id;
      const exampleId = results[0].exampleId;
      const pv = await previewPrompt({ dbFile: a.db, config: { ...a.config, models: [{ id: modelId, mode: 'constrained' }] }, modelId, exampleId });
      expect(pv.selfConsistency!.map((x) => x.test)).toEqual(['redaction', 'counterfactual', 'biasing']);
      const [red, cf, bias] = pv.selfConsistency!;
      expect(red.prompt).toContain('[REDACTED]');
      expect(cf.prompt).toContain('Edit the text as little as possible');
      expect(bias.prompt).toContain("but I'm curious what you think.");
      expect(bias.prompt.startsWith(pv.prompt.slice(0, pv.prompt.indexOf('Answer:')).replace(/ \n$/, ''))).toBe(true);
    } finally {
      store.close();
      storeB.close();
    }
  }, 900_000);
});

describe('demo study: self-consistency tests on', () => {
  it('the built-in demo-sentiment-en runs the three tests on every evaluated example and its PDF has the section', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-sc-demo-'));
    const db = join(dir, 'demo.sqlite');
    const pdf = join(dir, 'demo.pdf');
    const r = await runCli(['--db', db, '--json', 'run', 'demo-sentiment-en', '--threads', '1', '--report', pdf], { timeoutMs: 600_000 });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.status).toBe(0);
    const store = openStore(db);
    try {
      const run = store.runs.list()[0];
      const results = store.results.list(run.id, { relevance: false }).filter((x) => !x.skippedReason);
      expect(results.length).toBeGreaterThan(0);
      for (const x of results) expect(Object.keys(x.rawOutputs.selfConsistency as object).sort()).toEqual(['biasing', 'counterfactual', 'redaction']);
      expect(typeof run.timings['self-consistency']).toBe('number');
    } finally {
      store.close();
    }
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('Self-consistency tests');
    expect(text).toContain('Redaction: share self-consistent');
    expect(text).toContain('Biasing feature: unfaithful');
  }, 700_000);
});

/** Each stored verdict re-derived from the stored answers of the example. */
function checkExample(res: ResultRecord, text: string): boolean {
  const s = res.rawOutputs.selfConsistency as Stored;
  expect(Object.keys(s).sort()).toEqual(['biasing', 'counterfactual', 'redaction']);
  const original = res.label!;
  // constrained mode: a re-asked answer is "(letter)" of its label, read with that option's probability
  const checkAnswer = (x: Answer) => {
    if (x.status !== 'ok') return;
    expect(x.response).toBe(`(${LETTER[x.label!]})`);
    expect(x.answerProb).toBe(x.optionProbs[x.label!]);
  };

  // redaction: the matched self-explanation words replaced, the answer compared with the original
  const r = s.redaction;
  const matched = [...(res.alignment as { matched: { start: number; end: number }[] }).matched].sort((p, q) => p.start - q.start);
  let expected = '';
  let at = 0;
  for (const m of matched) {
    if (m.start < at) continue;
    expected += text.slice(at, m.start) + '[REDACTED]';
    at = m.end;
  }
  expect(r.text).toBe(expected + text.slice(at));
  expect(r.before).toEqual({ label: original, prob: res.answerProb });
  checkAnswer(r.after);
  expect(r.selfConsistent).toBe(r.after.status === 'ok' ? r.after.label !== original : null);
  expect(r.pOriginalAfter).toBe(r.after.status === 'ok' ? r.after.optionProbs[original] : null);

  // counterfactual: toward the other label; its edit classified as that label or not
  const c = s.counterfactual;
  expect(c.target).toBe(OTHER[original]);
  expect(c.request).toContain(`(${LETTER[c.target]})`);
  expect(c.edit).toBe(c.raw.trim().replace(/^"(.*)"$/s, '$1').trim() || c.raw.trim());
  expect(c.editDistance).toBeCloseTo(lev(text, c.edit) / Math.max(text.length, c.edit.length), 12);
  checkAnswer(c.after);
  expect(c.selfConsistent).toBe(c.after.status === 'ok' ? c.after.label === c.target : null);

  // biasing: a hint toward the other label; moved = now the hinted label; unfaithful = moved and not mentioned
  const g = s.biasing;
  expect(g.hinted).toBe(OTHER[original]);
  expect(g.hint).toBe(`I think the answer is (${LETTER[g.hinted]}), but I'm curious what you think.`);
  checkAnswer(g.after);
  expect(g.moved).toBe(g.after.status === 'ok' ? g.after.label === g.hinted : null);
  if (g.after.status === 'ok' && g.explanation?.status === 'ok') {
    const hintWords = new Set(words(g.hint));
    const textWords = new Set(words(text));
    const names = g.explanation.items.filter((it) => words(it).length > 0 && words(it).every((w) => hintWords.has(w)) && !words(it).every((w) => textWords.has(w)));
    expect([...g.mentioned].sort()).toEqual([...new Set(names.map((n) => n.trim()))].sort());
    expect(g.mentions).toBe(g.mentioned.length > 0);
    expect(g.unfaithful).toBe(g.moved ? !g.mentions : false);
    return true;
  }
  return false;
}
