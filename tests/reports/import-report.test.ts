/**
 * import-run (generic JSONL) → metrics → report/CSV/JSONL, through the CLI's own entry point, on real
 * published responses (Llama-2-13B, SST, seed 28) converted to the generic format.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from '../fixtures/cli-in-process';
import { openStore } from '../../main/store';
import { kappa, SHARED } from './paper-fixture';
import { studyConfig } from '../store/helpers';

interface PaperLine { content: string; true_label: number; gold_label_rationales: number[]; rationales_checked?: string }

function paperLines(n: number): PaperLine[] {
  const f = resolve(SHARED, 'data/paper-responses/sst/llama/oracle/28/llama_rationales_seed_28_sparsity_oracle.jsonl');
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).slice(0, n).map((l) => JSON.parse(l.replace(/\bNaN\b/g, 'null')));
}

/**
 * Reference word matching for the test: items split at commas, each item's words lower-cased with
 * non-alphanumerics removed, matched as consecutive text words at the first place not fully used.
 */
function refMask(text: string, items: string[]): number[] {
  const norm = (w: string) => w.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  const words = text.split(/\s+/).filter(Boolean).map(norm);
  const mask = words.map(() => 0);
  for (const it of items.flatMap((s) => s.split(','))) {
    const k = it.split(/\s+/).map(norm).filter(Boolean);
    if (!k.length) continue;
    for (let i = 0; i + k.length <= words.length; i++) {
      if (k.every((w, j) => words[i + j] === w) && k.some((_, j) => mask[i + j] === 0)) {
        k.forEach((_, j) => (mask[i + j] = 1));
        break;
      }
    }
  }
  return mask;
}


describe('import-run jsonl → metrics → report', () => {
  it('imports published responses, computes kappa as a hand-written reference does, exports CSV/JSONL and a PDF', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-import-'));
    const db = join(dir, 'w.sqlite');
    const lines = paperLines(30);
    const jsonl: string[] = [];
    const refKappas: number[] = [];
    for (const [i, l] of lines.entries()) {
      const gold = l.true_label === 1 ? 'positive' : 'negative';
      if (!l.rationales_checked) {
        jsonl.push(JSON.stringify({ id: i + 1, text: l.content, label: gold, prediction: null, skipped: 'wrong-answer', rationale: l.gold_label_rationales }));
        continue;
      }
      // the repaired JSON is not always valid JSON; the items are the "rationales" string values
      const items = [...l.rationales_checked.matchAll(/"rationales"\s*:\s*"([^"]*)"/g)].map((m) => m[1]);
      jsonl.push(JSON.stringify({ id: i + 1, text: l.content, label: gold, prediction: gold, rationale: l.gold_label_rationales, selfExplanation: items }));
      refKappas.push(kappa(l.gold_label_rationales, refMask(l.content, items)));
    }
    // a Danish line with a quote and a comma, to exercise CSV quoting and UTF-8
    jsonl.push(JSON.stringify({ id: 'da-1', language: 'da', text: 'En "rørende" film, både sjov og smuk.', label: 'positive', prediction: 'positive', rationale: [0, 1, 0, 0, 1, 0, 1], selfExplanation: ['Rørende, sjov'] }));
    refKappas.push(kappa([0, 1, 0, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0, 0]));
    const file = join(dir, 'llama-sst-28.jsonl');
    writeFileSync(file, jsonl.join('\n') + '\n');

    const store = openStore(db);
    const studyId = store.studies.create('imported SST', studyConfig({ name: 'imported SST', task: { kind: 'sentiment' }, dataset: { builtin: 'msst-en' }, models: [{ path: 'llama.gguf' }], seeds: [28] }));
    store.close();

    const imp = await cli(['--db', db, '--json', 'import-run', file, '--format', 'jsonl', '--study', String(studyId), '--model', 'Llama-2-13B', '--seed', '28']);
    expect(imp.err).toBe('');
    expect(imp.code).toBe(0);
    const { runId, examples } = JSON.parse(imp.out);
    expect(examples).toBe(31);

    const met = await cli(['--db', db, '--json', 'metrics', String(runId)]);
    expect(met.code).toBe(0);
    const ms = JSON.parse(met.out).metrics as { scope: Record<string, unknown>; name: string; value: number; n: number }[];
    const k = ms.find((m) => m.name === 'kappa' && m.scope.pair === 'human×self' && m.scope.level === 'word' && m.scope.language === undefined)!;
    const refMean = refKappas.reduce((a, b) => a + b, 0) / refKappas.length;
    expect(k.n).toBe(refKappas.length);
    expect(k.value).toBeCloseTo(refMean, 10);
    const skipped = ms.find((m) => m.name === 'skipped' && m.scope.reason === 'wrong-answer' && m.scope.language === undefined)!;
    expect(skipped.value).toBe(31 - refKappas.length);
    // per-language breakdown exists because the file mixes en and da
    expect(ms.some((m) => m.name === 'kappa' && m.scope.language === 'da')).toBe(true);

    const pdf = join(dir, 'r.pdf');
    const csv = join(dir, 'r.csv');
    const jl = join(dir, 'r.jsonl');
    const rep = await cli(['--db', db, 'report', String(runId), '--pdf', pdf, '--csv', csv, '--jsonl', jl]);
    expect(rep.code).toBe(0);
    const csvText = readFileSync(csv, 'utf8');
    expect(csvText.charCodeAt(0)).toBe(0xfeff);
    const rows = csvText.slice(1).trimEnd().split('\r\n');
    expect(rows.length).toBe(32); // header + 31 examples
    expect(csvText).toContain('"En ""rørende"" film, både sjov og smuk."');
    const jrows = readFileSync(jl, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    // export format 2: one run line first (config, metric context, stored metrics), then the 31 examples
    expect(jrows).toHaveLength(32);
    expect(jrows[0]).toMatchObject({ record: 'run', runId });
    expect(jrows.slice(1).every((r) => r.record === 'example')).toBe(true);
    const da = jrows.find((r) => r.externalId === 'da-1');
    expect(da.metrics['word:human×self:kappa']).toBeCloseTo(kappa([0, 1, 0, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0, 0]), 12);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    for (const s of ['Plausibility heatmap', 'Llama-2-13B', 'Classification', 'best', 'worst', 'wrong-answer']) expect(text).toContain(s);
    expect(text).toContain(refMean.toFixed(2));
  });

  it('refuses a bad line with file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-import-'));
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"text":"ok text","label":"a","prediction":"a"}\n{"text":"x y","label":"a","prediction":"a","rationale":[1,0,1]}\n');
    const db = join(dir, 'w.sqlite');
    const store = openStore(db);
    const studyId = store.studies.create('s', studyConfig({ name: 's', task: { kind: 'sentiment' }, dataset: { builtin: 'msst-en' }, models: [{ path: 'm.gguf' }] }));
    store.close();
    const r = await cli(['--db', db, 'import-run', file, '--format', 'jsonl', '--study', String(studyId)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl: row 2, field "rationale": mask has 3 entries but the text has 2 words/);
    const s2 = openStore(db);
    expect(s2.runs.list()).toHaveLength(0); // nothing stored from a bad file
    s2.close();
  });
});
