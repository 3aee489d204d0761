/**
 * Size-matched masks in a real run (issue 10, item 10): the tiny generated study (real llama.cpp, real LRP
 * engine, synthetic vocabulary whose words are several tokens each) through the CLI. Every stored LRP and
 * random mask has exactly as many ones as the human rationale at its own level: words at word level, text
 * tokens at token level (top-k-human). Before, the word masks were the token top-k expanded to words
 * (2-3x the human word count), while the report's caption said "k = the human rationale's size".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { runCli, SENTENCES, setup } from '../runner/tiny-study';

const ones = (m: number[]) => m.reduce((a, b) => a + b, 0);

describe('run: continuous masks are size-matched at each level', () => {
  it('lrp-cp and random masks have the human rationale’s word count at word level and token count at token level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-levels-'));
    const db = join(dir, 'w.sqlite');
    const study = await setup(dir, db);
    const r = await runCli(['--db', db, '--json', 'run', study]);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.status).toBe(0);
    const store = openStore(db);
    try {
      const [run] = store.runs.list();
      const rs = store.results.list(run.id).filter((x) => !x.skippedReason);
      expect(rs.length).toBe(SENTENCES.length);
      const exs = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
      let multiTokenWords = 0;
      for (const res of rs) {
        const m = res.masks!;
        const nWords = exs.get(res.exampleId)!.words.length;
        const nText = res.tokens!.filter((t) => t.segment === 'text').length;
        if (nText > nWords) multiTokenWords++;
        for (const method of ['lrp-cp', 'random']) {
          expect(ones(m[`${method}/word`]), `${method}/word of example ${res.exampleId}`).toBe(Math.min(ones(m['human/word']), nWords));
          expect(ones(m[`${method}/token`]), `${method}/token of example ${res.exampleId}`).toBe(Math.min(ones(m['human/token']), nText));
        }
      }
      // the case that matters: words of several tokens (else word and token top-k could not differ)
      expect(multiTokenWords).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 300_000);
});
