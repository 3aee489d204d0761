/**
 * Exports: the CSV neutralises spreadsheet formulas in text cells (numbers stay numbers); the JSONL carries
 * everything needed to recompute every metric without the database, and the metrics check recomputes
 * every metric of a real run (tiny generated model, real llama.cpp + LRP engine) from the JSONL alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField, exportData, toCsv } from '../../main/reports/exports';
import { checkExport } from '../../main/reports/metrics-check';
import { openStore } from '../../main/store';
import { cliInProcess } from '../fixtures/cli-in-process';
import { setup } from '../runner/tiny-study';
import { dataset, example, minimalConfig, tempDir } from '../store/helpers';

const tmp = tempDir('rw-exports-');
afterAll(() => tmp.cleanup());

describe('CSV export: formula injection', () => {
  it('text cells starting with = + - @ tab or CR get a leading quote and are quoted; numbers stay numbers', () => {
    expect(csvField('=1+1')).toBe(`"'=1+1"`);
    expect(csvField('+41 22')).toBe(`"'+41 22"`);
    expect(csvField('-5')).toBe(`"'-5"`);
    expect(csvField('@SUM(A1:A9)')).toBe(`"'@SUM(A1:A9)"`);
    expect(csvField('\t=cmd')).toBe(`"'\t=cmd"`);
    expect(csvField('\r=cmd')).toBe(`"'\r=cmd"`);
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    // numbers we write are numbers, negative ones too
    expect(csvField(-0.8)).toBe('-0.8');
    expect(csvField(-3)).toBe('-3');
    // ordinary text is unchanged (quoted only where RFC 4180 needs it)
    expect(csvField('a fine film')).toBe('a fine film');
    expect(csvField('warm, funny')).toBe('"warm, funny"');
    expect(csvField('e-mail = fine')).toBe('e-mail = fine');
  });

  it('a stored run with hostile text exports safe cells, with a negative kappa left a number', () => {
    const store = openStore(tmp.file());
    try {
      const d = store.datasets.insert(dataset('@data', [example('-5', '=HYPERLINK("http://evil","click") now please', 'positive', [1])]));
      const m = store.models.register({ path: '/models/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
      const s = store.studies.create('s', minimalConfig(d, m));
      const runId = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't', total: 1 });
      const ex = store.datasets.examples(d)[0];
      // human [0,1,0] vs self [1,0,1]: po = 0, pe = 1/3*2/3 + 2/3*1/3 = 4/9, kappa = -4/9 / (5/9) = -0.8
      store.results.put(runId, ex.id, { rawOutputs: { turn1: '(a)' }, label: 'positive', correct: true, answerProb: 0.5, selfExplanation: ['=1+1'], masks: { 'human/word': [0, 1, 0], 'self/word': [1, 0, 1] } });
      const csv = toCsv(exportData(store, [runId]).rows);
      const [head, line] = csv.split('\r\n');
      const cols = head.split(',');
      expect(line).toContain(`,"'@data",`);
      expect(line).toContain(`,"'-5",`);
      expect(line.endsWith(`,"'=HYPERLINK(""http://evil"",""click"") now please"`)).toBe(true);
      expect(line).toContain(',"[""=1+1""]",');
      // the kappa column holds -0.8 (to float rounding) as a plain number
      const kappaCell = line.split(',')[cols.indexOf('kappa_human_self_word')];
      expect(kappaCell).toMatch(/^-0\.7999999999999\d*$|^-0\.8$|^-0\.8000000000000\d*$/);
      expect(Number(kappaCell)).toBeCloseTo(-0.8, 12);
    } finally {
      store.close();
    }
  });
});

describe('JSONL export and the metrics check (a real run)', () => {
  let db: string;
  let runId: number;
  let jsonl: string;

  beforeAll(async () => {
    const dir = tmp.dir;
    db = join(dir, 'check.sqlite');
    const studyFile = await setup(dir, db);
    const config = JSON.parse(readFileSync(studyFile, 'utf8'));
    config.explanations = ['human', 'lrp-cp', 'occlusion', 'random'];
    config.metrics = ['accuracy', 'invalid-rate', 'kappa', 'f1', 'recall', 'auprc', 'prob-drop', 'comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency'];
    config.limits = { ...config.limits, maxExamples: 4 };
    writeFileSync(studyFile, JSON.stringify(config));
    // one thread: on a shared machine two llama.cpp threads wait on each other (10x slower)
    const r = await cliInProcess(['--db', db, '--json', 'run', studyFile, '--threads', '1']);
    expect(r.err).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    runId = JSON.parse(r.out).runs[0].runId;
    jsonl = join(dir, 'run.jsonl');
    const e = await cliInProcess(['--db', db, 'report', String(runId), '--jsonl', jsonl, '--tokens-csv', join(dir, 'tokens.csv')]);
    expect(e.code).toBe(0);
  }, 1_200_000);

  it('carries tokens with text, offsets and segment, each method’s relevance and masks, answer and masked probabilities', () => {
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].record).toBe('run');
    expect(lines[0].format).toBe('rationale-workbench-export/2');
    expect(lines[0].context).toEqual({ model: expect.any(String), seed: 28 });
    expect(lines[0].metrics.length).toBeGreaterThan(0);
    const rows = lines.slice(1);
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(r.record).toBe('example');
      expect(r.tokens.length).toBeGreaterThan(0);
      for (const t of r.tokens) expect(Object.keys(t).sort()).toEqual(['end', 'id', 'segment', 'start', 'text']);
      const text = r.tokens.filter((t: { segment: string }) => t.segment === 'text');
      expect(text.length).toBeGreaterThan(0);
      for (const t of text) expect(r.text.slice(t.start, t.end).length).toBeGreaterThanOrEqual(0);
      expect(r.words.map((w: { text: string; start: number; end: number }) => r.text.slice(w.start, w.end))).toEqual(r.words.map((w: { text: string }) => w.text));
      expect(Object.keys(r.relevance).sort()).toEqual(['lrp-cp', 'occlusion', 'random']);
      for (const v of Object.values(r.relevance) as { values: number[] }[]) expect(v.values).toHaveLength(r.tokens.length);
      for (const k of ['human/token', 'lrp-cp/token', 'occlusion/token', 'random/token', 'human/word']) expect(r.masks[k], k).toBeDefined();
      expect(typeof r.answerProb).toBe('number');
      expect(Object.keys(r.optionProbs).length).toBe(2);
      // p0 is a masked readout with nothing masked, and it is the answer probability, bit for bit
      expect(r.maskedProbs['']).toBe(r.answerProb);
      expect(r.faithfulness.p0).toBe(r.answerProb);
      // one leave-one-out readout per text token, plus the sets and AOPC steps
      expect(Object.keys(r.maskedProbs).length).toBeGreaterThan(text.length);
      expect(r.rawOutputs.faithfulness).toBeUndefined();
    }
  });

  it('the token CSV has one row per prompt token with offsets, segment, relevance and token masks, as in the JSONL', () => {
    const rows = readFileSync(jsonl, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
    const csv = readFileSync(join(tmp.dir, 'tokens.csv'), 'utf8').replace(/^\ufeff/, '').trim().split('\r\n');
    const head = csv[0].split(',');
    expect(head).toEqual(['run', 'example_id', 'external_id', 'index', 'token_id', 'text', 'start', 'end', 'segment', 'relevance_lrp-cp', 'relevance_occlusion', 'relevance_random', 'mask_human', 'mask_lrp-cp', 'mask_occlusion', 'mask_random']);
    expect(csv.length - 1).toBe(rows.reduce((n: number, r: { tokens: unknown[] }) => n + r.tokens.length, 0));
    // a text token of the first example (no comma or quote in it, so a plain split reads the line)
    const r = rows[0];
    const i = r.tokens.findIndex((t: { segment: string; text: string }) => t.segment === 'text' && !/[",']/.test(t.text) && !/^[=+\-@]/.test(t.text));
    const line = csv.find((l) => l.startsWith(`${r.runId},${r.exampleId},${r.externalId},${i},`))!.split(',');
    expect(line.slice(4, 9)).toEqual([String(r.tokens[i].id), r.tokens[i].text, String(r.tokens[i].start), String(r.tokens[i].end), 'text']);
    expect(Number(line[9])).toBe(r.relevance['lrp-cp'].values[i]);
    expect(Number(line[10])).toBe(r.relevance.occlusion.values[i]);
    expect(Number(line[12])).toBe(r.masks['human/token'][i]);
  });

  it('recomputes every stored metric of the run from the JSONL alone, to 1e-12', async () => {
    const [check] = await checkExport(readFileSync(jsonl, 'utf8'));
    expect(check.problems).toEqual([]);
    expect(check.runId).toBe(runId);
    expect(check.examples).toBe(4);
    expect(check.readouts).toBeGreaterThan(40);
    expect(check.faithfulnessAsExported).toBe(0);
    const names = new Set(JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]).metrics.map((m: { name: string }) => m.name));
    for (const n of ['accuracy', 'kappa', 'auprc', 'prob-drop', 'comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency']) expect(names.has(n), n).toBe(true);
    expect(check.metrics).toBeGreaterThan(50);
  });

  it('names what does not agree when a masked probability or a stored metric is changed', async () => {
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const row = lines[1];
    const key = Object.keys(row.maskedProbs).find((k) => k !== '' && k.includes(','))!;
    row.maskedProbs[key] = row.maskedProbs[key] / 2;
    const m = lines[0].metrics.find((x: { name: string; value: number | null }) => x.name === 'accuracy');
    m.value += 1e-9;
    const [check] = await checkExport(lines.map((l) => JSON.stringify(l)).join('\n'));
    expect(check.problems.some((p) => p.includes(`example ${row.externalId}`) && /faithfulness|occlusion/.test(p))).toBe(true);
    expect(check.problems.some((p) => p.startsWith('accuracy ') && p.includes('value'))).toBe(true);
  });

  it('takes faithfulness as exported where a run has no readouts (an imported run), and says so', async () => {
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines[2].maskedProbs = null;
    const [check] = await checkExport(lines.map((l) => JSON.stringify(l)).join('\n'));
    expect(check.faithfulnessAsExported).toBe(1);
    expect(check.problems).toEqual([]);
  });
});
