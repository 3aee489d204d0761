/**
 * import-run --format paper through the CLI's own entry point on the published files, then
 * `metrics <runId> --json`: the stored run follows the workbench's one rule for invalid answers (never
 * correct, self-explanation not scored), and the run's notes give the authors' word-level figures under
 * their own convention side by side (SOURCES.md: Llama-2-13B seed 28, accuracy 86.31 %, F1 0.65, kappa 0.56,
 * recall 0.61, n 221), as the adapter computes them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from '../fixtures/cli-in-process';
import { importPaperRun, paperRunNames } from '../../main/importers/paper';
import { buildReportData } from '../../main/reports/build';
import { finalizeRun } from '../../main/runner';
import { openStore } from '../../main/store';
import { studyConfig } from '../store/helpers';

const SST = resolve(__dirname, '../../..', 'shared/data/paper-responses/sst');
const round2 = (x: number) => Math.round(x * 100) / 100;


interface Metric { scope: Record<string, unknown>; name: string; value: number | null; n: number | null }
const pick = (ms: Metric[], name: string, scope: Record<string, unknown> = {}) => {
  const hits = ms.filter((m) => m.name === name && Object.entries(scope).every(([k, v]) => m.scope[k] === v));
  expect(hits, `${name} ${JSON.stringify(scope)}`).toHaveLength(1);
  return hits[0];
};

function newStudy(db: string): number {
  const store = openStore(db);
  try {
    return store.studies.create('paper sst', studyConfig({
      name: 'paper sst', task: { kind: 'sentiment' }, language: 'en', dataset: { builtin: 'sst' },
      models: [{ path: 'imported' }], seeds: [28], explanations: ['human', 'self', 'lrp-cp'], selfExplanation: { matching: 'robust' },
    }));
  } finally {
    store.close();
  }
}

describe('import-run --format paper', () => {
  it('names model and seed from the folder', () => {
    expect(paperRunNames('/x/sst/llama_lrp_contrast/oracle/79/f.jsonl')).toEqual({ model: 'llama', variant: 'lrp_contrast', seed: 79 });
    expect(paperRunNames('/x/sst/llama3/oracle/28/f.jsonl')).toEqual({ model: 'llama3', variant: null, seed: 28 });
  });

  it("sst/llama/oracle/28 with the paper rule: the notes give the authors' 86.31 %, F1 0.65, kappa 0.56, recall 0.61, n 221 beside the workbench's 85.93 %, n 220", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-paper-import-'));
    const db = join(dir, 'w.sqlite');
    const studyId = newStudy(db);
    const imp = await cli(['--db', db, '--json', 'import-run', join(SST, 'llama/oracle/28'), '--format', 'paper', '--study', String(studyId), '--rule', 'paper']);
    expect(imp.err).toBe('');
    expect(imp.code).toBe(0);
    const { runId, model, seed, rule, examples, scored, invalid, paperConvention, notes } = JSON.parse(imp.out);
    // 220 scored: the refusal on line 108 is invalid, so its self-explanation is not scored (the paper scored
    // it: 221, below); 3 invalid answers (the refusal, and lines 189 and 234 that name both options)
    expect({ model, seed, rule, examples, scored, invalid }).toEqual({ model: 'llama', seed: 28, rule: 'paper', examples: 263, scored: 220, invalid: 3 });
    // the published figures, under the paper's convention, side by side with ours
    expect(round2(paperConvention.accuracy)).toBe(86.31);
    expect([round2(paperConvention.f1), round2(paperConvention.kappa), round2(paperConvention.recall), paperConvention.n]).toEqual([0.65, 0.56, 0.61, 221]);
    expect(notes).toContain(
      "accuracy 85.93 % (226/263) under the workbench's rule (an answer it cannot parse is invalid, never correct: 3 here, line 108, 189, 234); 86.31 % (227/263) under the paper's convention (its normaliser reads every answer it cannot parse as negative)",
    );
    expect(notes).toContain(
      "word-level human×self F1 0.65, kappa 0.56, recall 0.61, n 220 under the workbench's rule (an invalid answer's self-explanation is not scored); F1 0.65, kappa 0.56, recall 0.61, n 221 under the paper's convention (scored like a correct one)",
    );
    // token text decoded with Llama 2's real tokenizer (tests/importers/paper-tokens.test.ts checks the offsets)
    const tok = JSON.parse(imp.out);
    expect({ tokenizer: tok.tokenizer, decoded: tok.tokensDecoded, withIds: tok.tokensWithIds }).toEqual({ tokenizer: 'llama-spm', decoded: 215, withIds: 215 });

    const met = await cli(['--db', db, '--json', 'metrics', String(runId)]);
    expect(met.code).toBe(0);
    const { run, metrics } = JSON.parse(met.out) as { run: { status: string }; metrics: Metric[] };
    expect(run.status).toBe('done');
    const acc = pick(metrics, 'accuracy', { language: undefined });
    expect(acc.n).toBe(263);
    // 226/263: the paper's 227 correct less the refusal, which is invalid, never correct (tests/importers/paper.test.ts re-derives it)
    expect(round2(acc.value! * 100)).toBe(85.93);
    expect(round2(acc.value! * 263)).toBe(226);
    const pair = { level: 'word', pair: 'human×self' };
    // the mean over 220 (the paper's 221 less the refusal) still rounds to the published two decimals
    expect(round2(pick(metrics, 'f1', pair).value!)).toBe(0.65);
    expect(round2(pick(metrics, 'kappa', pair).value!)).toBe(0.56);
    expect(round2(pick(metrics, 'recall', pair).value!)).toBe(0.61);
    expect(pick(metrics, 'f1', pair).n).toBe(220);
    expect(pick(metrics, 'evaluated').value).toBe(220);
    // every one of the 263 lines is accounted for: 220 scored + 6 self-explanation skips + 3 invalid answers
    // + 34 wrong answers (the paper's 36 wrong, less the 2 that name both options, now invalid)
    const skips = metrics.filter((m) => m.name === 'skipped');
    const bySkip = Object.fromEntries(skips.map((m) => [m.scope.reason as string, m.value]));
    expect(bySkip['invalid-answer']).toBe(3);
    expect(bySkip['wrong-answer']).toBe(263 - 227 - 2);
    const selfSkips = Object.entries(bySkip).filter(([k]) => k.startsWith('self-explanation:')).reduce((a, [, v]) => a + (v ?? 0), 0);
    expect(selfSkips).toBe(6);
    expect(220 + 6 + 3 + 34).toBe(263);
    expect(round2(pick(metrics, 'invalid-rate').value! * 263)).toBe(3);

    const store = openStore(db);
    try {
      const rs = store.results.list(runId);
      expect(rs).toHaveLength(263);
      // the run record keeps how its tokens were decoded
      expect(store.runs.get(runId)!.timings).toMatchObject({ tokenizer: 'llama-spm', tokensDecoded: 215, tokensWithIds: 215 });
      expect((store.runs.get(runId)!.timings.notes as string[])[0]).toMatch(/^token text decoded with llama-spm \(.*ggml-vocab-llama-spm\.gguf\): 215 of 215 examples with token ids$/);
      // the refusal on line 108: invalid, not correct, not scored; the paper's reading of it is kept beside
      const refusal = rs.find((r) => r.rawOutputs.line === 108)!;
      expect(refusal).toMatchObject({ label: 'invalid', correct: false, skippedReason: 'invalid-answer' });
      expect(refusal.masks?.['self/word']).toBeUndefined();
      expect(refusal.rawOutputs.paperPrediction).toBe('negative');
      expect(refusal.rawOutputs.paperConvention).toBe('the paper read this answer as negative, counted correct and scored its self-explanation');
      // LRP relevance over the whole chat prompt, where the file has it (12 lines say "N/T", 215 have a perturbation record)
      const withRel = rs.filter((r) => r.relevance.some((x) => x.method === 'lrp-cp'));
      expect(withRel.length).toBeGreaterThan(200);
      for (const r of withRel) expect(r.relevance[0].values.length).toBe(r.tokens!.length);
      // where relevance lands: the share on the review's own tokens is stored (the paper found it small)
      const share = pick(metrics, 'relevance-share', { method: 'lrp-cp', segment: 'text' });
      expect(share.value!).toBeGreaterThan(0);
      expect(share.value!).toBeLessThan(1);
    } finally {
      store.close();
    }
  });

  it('the robust rule scores the 226 valid explained answers and counts the refusal as wrong, not scored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-paper-import-'));
    const db = join(dir, 'w.sqlite');
    const studyId = newStudy(db);
    // default rule: the study's selfExplanation.matching (robust)
    const imp = await cli(['--db', db, '--json', 'import-run', join(SST, 'llama/oracle/28'), '--format', 'paper', '--study', String(studyId)]);
    expect(imp.code).toBe(0);
    const { runId, rule, scored } = JSON.parse(imp.out);
    expect(rule).toBe('robust');
    // 227 explained, less the refusal: invalid under our parser, so not correct and not scored (it was scored,
    // 227, before the one rule for invalid answers)
    expect(scored).toBe(226);
    const met = JSON.parse((await cli(['--db', db, '--json', 'metrics', String(runId)])).out) as { metrics: Metric[] };
    // 227 - 1 (refusal) + 27 "rather positive" answers our parser reads correctly = 253 correct of 263
    expect(round2(pick(met.metrics, 'accuracy').value! * 263)).toBe(253);
    // the report says where the run came from and what the token decoding found
    const html = join(dir, 'r.html');
    expect((await cli(['--db', db, 'report', String(runId), '--html', html])).code).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain(`Run ${runId}: imported from `);
    expect(text).toContain('(answers scored with the robust rule)');
    // ... and both accuracies: ours, and the paper's convention (its normaliser) side by side
    expect(text).toMatch(/accuracy 96\.20 % \(253\/263\) under the workbench.{1,6}s rule .*; 86\.31 % \(227\/263\) under the paper.{1,6}s convention/);
    expect(text).toMatch(new RegExp(`Run ${runId}: token text decoded with llama-spm \\([^)]*\\): 2\\d\\d of 2\\d\\d examples with token ids`));
  });

  it('refuses a bad rule and a folder without a response file, naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-paper-import-'));
    const db = join(dir, 'w.sqlite');
    const studyId = newStudy(db);
    const bad = await cli(['--db', db, 'import-run', join(SST, 'llama/oracle/28'), '--format', 'paper', '--study', String(studyId), '--rule', 'loose']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--rule must be paper or robust, got "loose"/);
    const empty = await cli(['--db', db, 'import-run', dir, '--format', 'paper', '--study', String(studyId)]);
    expect(empty.code).not.toBe(0);
    expect(empty.err).toMatch(/no response file/);
  });

  it('report columns name only what differs between the imported runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-paper-import-'));
    const db = join(dir, 'w.sqlite');
    const studyId = newStudy(db);
    const store = openStore(db);
    try {
      const ids = [join(SST, 'llama/oracle/28'), join(SST, 'mistral/oracle/28'), join(SST, 'llama/oracle/28')].map((f) => {
        const r = importPaperRun(store, f, { studyId, rule: 'paper' });
        finalizeRun(store, r.runId);
        return r;
      });
      // the same file twice reuses its dataset
      expect(ids[2].datasetId).toBe(ids[0].datasetId);
      expect(ids[2].modelId).toBe(ids[0].modelId);
      const cols = (runIds: number[]) => buildReportData(store, runIds).tables[0].columns;
      // model and dataset differ, the seed does not
      expect(cols([ids[0].runId, ids[1].runId])).toEqual([
        'llama · llama_rationales_seed_28_sparsity_oracle.jsonl (paper responses)',
        'mistral · mistral_rationales_seed_28_sparsity_oracle.jsonl (paper responses)',
      ]);
      // identical model, dataset and seed: told apart by run id
      expect(cols([ids[0].runId, ids[2].runId])).toEqual([`llama · run ${ids[0].runId}`, `llama · run ${ids[2].runId}`]);
      expect(cols([ids[1].runId])).toEqual(['mistral']);
    } finally {
      store.close();
    }
  });
});
