// Issue 10 item 1, end to end: a forced-labour CSV with yes/no gold labels (a real CSV import through the
// CLI) and a run of a real generated GGUF model through llama.cpp. Before the fix the import and the run
// went through without a word and the labels were scored as RaFoLa indicator names: every "yes" counted as
// gold "no" (accuracy 0.000 for a model that answers yes to everything, on two yes and two no). Now the
// study is refused before any run, with every example and value; with an explicit mapping it runs and the
// accuracy is the one re-derived by hand below.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { writeExports } from '../../main/reports/exports';
import { GoldLabelError } from '../../main/protocol/gold';
import { runStudies } from '../../main/runner/study';
import { openStore } from '../../main/store';
import { cliInProcess } from '../fixtures/cli-in-process';

const dir = mkdtempSync(join(tmpdir(), 'rw-gold-'));
const db = join(dir, 'db.sqlite');
const model = join(dir, 'tiny.gguf');
const csv = join(dir, 'forced-labour.csv');
// gold as the analyst means it: is the article evidence of the study's indicator (debt bondage, ILO 9)?
const ROWS: [string, string, string][] = [
  ['a1', 'Recruiters charged fees that workers must repay from their wages.', 'yes'],
  ['a2', 'The factory pays wages on time and workers go home freely.', 'no'],
  ['a3', 'Workers owed the agency a debt that grew every month.', 'yes'],
  ['a4', 'The shop hired two new cashiers this week.', 'no'],
  ['a5', 'The report on the farm was not finished.', 'unclear'],
];
let datasetId = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  writeFileSync(csv, `id,text,label\n${ROWS.map(([id, text, label]) => `${id},"${text}",${label}`).join('\n')}\n`);
  const imp = await cliInProcess(['--db', db, '--json', 'import', csv, '--format', 'csv', '--language', 'en']);
  expect(imp.code, imp.err).toBe(0);
  datasetId = JSON.parse(imp.out).datasetId;
  await generateModel({ path: model, seed: 7, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
}, 120_000);

const config = (name: string, labelMap?: Record<string, string | null>) => ({
  name, task: { kind: 'forced-labour', indicator: 'Debt bondage', ...(labelMap ? { labelMap } : {}) }, language: 'en', dataset: { id: datasetId },
  models: [{ path: model, mode: 'scoring' }], seeds: [28], explanations: ['human', 'random'], metrics: ['accuracy'], onlyCorrect: false,
});

function study(name: string, labelMap?: Record<string, string | null>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config(name, labelMap)));
  return file;
}

function stored() {
  const store = openStore(db);
  try {
    return { runs: store.runs.list(), studies: store.studies.list() };
  } finally {
    store.close();
  }
}

describe('gold labels that do not fit a forced-labour task', () => {
  it('refuses the study before any run, naming every example (position, id) and value at once', async () => {
    const r = await cliInProcess(['--db', db, 'run', study('no-mapping')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`dataset "forced-labour" (id ${datasetId}): 5 of 5 examples have a gold label that maps to none of the task's options (yes, no); the study was not run`);
    expect(r.err).toContain('"yes" does not say which indicator it is about (if it is about this study\'s indicator, "Debt bondage", map it): 2 examples, 1 (id a1), 3 (id a3)');
    expect(r.err).toContain('"no" does not say which indicator it is about');
    expect(r.err).toContain('2 examples, 2 (id a2), 4 (id a4)');
    expect(r.err).toContain('"unclear" is neither an indicator name nor mapped: example 5 (id a5)');
    expect(r.err).toContain('task.labelMap');
    // nothing was stored: no run, not even the study
    expect(stored()).toEqual({ runs: [], studies: [] });
  });

  it('answers the refusal as JSON under --json', async () => {
    const r = await cliInProcess(['--db', db, '--json', 'run', study('no-mapping')]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.runs).toEqual([]);
    expect(j.refused).toMatchObject({ reason: 'gold-labels', dataset: { id: datasetId, name: 'forced-labour' }, count: 5, checked: 5, options: ['yes', 'no'] });
    expect(j.refused.unmapped.map((v: { value: string; count: number }) => [v.value, v.count])).toEqual([['yes', 2], ['no', 2], ['unclear', 1]]);
    expect(j.refused.unmapped[0].examples).toEqual([
      { exampleId: expect.any(Number), externalId: 'a1', position: 1 },
      { exampleId: expect.any(Number), externalId: 'a3', position: 3 },
    ]);
    // stderr too is JSON under --json (README "Command line"): one error line, no plain text
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).error).toMatchObject({ code: 'failed', message: expect.stringContaining('"unclear" is neither an indicator name nor mapped: example 5 (id a5)') });
  });

  it('a mapping that leaves a label unmapped is still refused, for that label only', async () => {
    const r = await cliInProcess(['--db', db, 'run', study('partial', { yes: 'yes', no: 'no' })]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('1 of 5 examples');
    expect(r.err).toContain('"unclear" is neither an indicator name nor mapped: example 5 (id a5)');
    expect(r.err).not.toContain('"yes" does not say');
    expect(stored().runs).toEqual([]);
  });

  it('in a group of studies, one refused study stops them all before any runs', async () => {
    const store = openStore(db);
    try {
      const group = [
        { name: 'fine', file: 'fine.json', config: config('fine', { yes: 'yes', no: 'no', unclear: null }) },
        { name: 'refused', file: 'refused.json', config: config('refused') },
      ];
      await expect(runStudies(store, group, { log: () => {} })).rejects.toBeInstanceOf(GoldLabelError);
      expect(store.runs.list()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('with an explicit mapping it runs, and scores against the mapped gold (accuracy checked by hand)', async () => {
    const r = await cliInProcess(['--db', db, '--json', 'run', study('mapped', { yes: 'yes', no: 'no', unclear: null })]);
    expect(r.code, r.err).toBe(0);
    const runId = JSON.parse(r.out).runs[0].runId as number;
    const store = openStore(db);
    try {
      const byExt = new Map(store.datasets.examples(datasetId).map((e) => [e.id, e.externalId]));
      const results = store.results.list(runId, { relevance: false });
      expect(results).toHaveLength(5);
      const answers: Record<string, string | null> = {};
      for (const x of results) answers[byExt.get(x.exampleId)!] = x.label;
      // the example whose label maps to null is left out: stored as skipped, never run or scored
      const a5 = results.find((x) => byExt.get(x.exampleId) === 'a5')!;
      expect(a5).toMatchObject({ label: null, correct: null, skippedReason: 'excluded-label' });
      // by hand: gold is the CSV's yes/no; an answer is correct when it is that option
      let right = 0;
      for (const [id, , label] of ROWS.slice(0, 4)) {
        const x = results.find((y) => byExt.get(y.exampleId) === id)!;
        expect(['yes', 'no']).toContain(x.label);
        expect(x.correct).toBe(x.label === label);
        expect(x.rawOutputs.gold).toBe(label);
        if (x.label === label) right++;
      }
      // this generated model answers "yes" to all four (scoring mode, deterministic): a1 and a3 right, 2/4
      expect(answers).toEqual({ a1: 'yes', a2: 'yes', a3: 'yes', a4: 'yes', a5: null });
      expect(right).toBe(2);
      const acc = store.metrics.list(runId).find((m) => m.name === 'accuracy' && Object.keys(m.scope).every((k) => ['model', 'seed', 'indicator'].includes(k)))!;
      expect(acc.value).toBe(0.5);
      expect(acc.n).toBe(4);
      const skip = store.metrics.list(runId).find((m) => m.name === 'skipped' && m.scope.reason === 'excluded-label')!;
      expect(skip.value).toBe(1);
      // the per-example export says the same (gold as in the dataset, answer, correct 1/0)
      const out = join(dir, 'mapped.csv');
      writeExports(store, [runId], { csv: out });
      const lines = readFileSync(out, 'utf8').replace(/^\ufeff/, '').trim().split('\n');
      const head = lines[0].split(',');
      const row = (id: string) => lines.find((l) => l.split(',')[head.indexOf('external_id')] === id)!.split(',');
      const col = (id: string, name: string) => row(id)[head.indexOf(name)];
      expect([col('a1', 'gold'), col('a1', 'prediction'), col('a1', 'correct')]).toEqual(['yes', 'yes', '1']);
      expect([col('a2', 'gold'), col('a2', 'prediction'), col('a2', 'correct')]).toEqual(['no', 'yes', '0']);
    } finally {
      store.close();
    }
  }, 120_000);

  it('the mapping is honoured as given: inverted, the same answers score the other way', async () => {
    const r = await cliInProcess(['--db', db, '--json', 'run', study('inverted', { yes: 'no', no: 'yes', unclear: null })]);
    expect(r.code, r.err).toBe(0);
    const runId = JSON.parse(r.out).runs[0].runId as number;
    const store = openStore(db);
    try {
      const acc = store.metrics.list(runId).find((m) => m.name === 'accuracy' && !('language' in m.scope))!;
      // same answers (yes x4); gold now no, yes, no, yes: a2 and a4 right, 2/4 again, but the other two
      const byExt = new Map(store.datasets.examples(datasetId).map((e) => [e.id, e.externalId]));
      const right = store.results.list(runId, { relevance: false }).filter((x) => x.correct).map((x) => byExt.get(x.exampleId)).sort();
      expect(right).toEqual(['a2', 'a4']);
      expect(acc.value).toBe(0.5);
    } finally {
      store.close();
    }
  }, 120_000);
});
