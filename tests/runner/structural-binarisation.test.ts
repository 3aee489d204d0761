/**
 * binarisation.includeStructural in a real study run (real CLI, a tiny generated llama GGUF, real SQLite): the
 * stored token-level LRP mask is the top k of every prompt token but the answer (the text and the structural
 * tokens alike), k = the human rationale's token count, recomputed here from the stored relevance.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { buildReportData } from '../../main/reports/build';
import { runCli, setup } from './tiny-study';

describe('runner: structural tokens in the binarisation', () => {
  it('the token-level mask selects among the text and the structural tokens; the report says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-struct-'));
    const db = join(dir, 'struct.sqlite');
    const file = await setup(dir, db);
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.explanations = ['human', 'lrp-cp'];
    config.metrics = ['accuracy', 'kappa'];
    config.binarisation = { method: 'top-k-human', includeStructural: true };
    config.limits = { maxExamples: 3 };
    writeFileSync(file, JSON.stringify(config));
    const r = await runCli(['--db', db, '--json', 'run', file, '--threads', '1'], { timeoutMs: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const store = openStore(db);
    try {
      const run = store.runs.list()[0];
      const results = store.results.list(run.id).filter((x) => !x.skippedReason);
      expect(results.length).toBeGreaterThan(0);
      let structuralSelected = 0;
      for (const res of results) {
        const tokens = res.tokens!;
        const v = Array.from(res.relevance.find((x) => x.method === 'lrp-cp')!.values);
        const k = res.masks!['human/token'].reduce((a, b) => a + b, 0);
        // every prompt position but the answer's, by relevance, largest first, ties the earlier first
        const allowed = tokens.flatMap((t, i) => (t.segment === 'answer' ? [] : [i]));
        const top = [...allowed].sort((a, b) => v[b] - v[a] || a - b).slice(0, k);
        expect(res.masks!['lrp-cp/token']).toEqual(tokens.map((_, i) => (top.includes(i) ? 1 : 0)));
        structuralSelected += top.filter((i) => tokens[i].segment !== 'text').length;
      }
      // on this model the BOS / chat-format tokens do take slots (else the test would not tell the options apart)
      expect(structuralSelected).toBeGreaterThan(0);
      const note = buildReportData(store, [run.id], { now: new Date(0) }).method!.find((m) => m.topic === 'Binarisation level')!;
      expect(note.text).toContain('Token level: the top k text and structural tokens (BOS, chat format, instruction, options), k = the human rationale’s token count.');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 700_000);
});
