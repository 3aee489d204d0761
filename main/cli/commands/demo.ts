import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFile } from '../../datasets/index';
import { openStoreAt, parseFlags, type CliContext } from '../context';
import { describeExample } from './examples';

export const summary = 'run a small end-to-end demo: import the demo sentences (EN/DA/IT) and summarise them';
export const usage = 'demo';

const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../studies/demo');
export const DEMO_FILES = ['en', 'da', 'it'].map((l) => path.join(DEMO_DIR, `sentiment-${l}.jsonl`));

/**
 * Imports studies/demo/sentiment-{en,da,it}.jsonl (one dataset each) into a database and prints what was stored, read
 * back from the database. Without an explicit --db (or RW_DB) it uses a temporary database that
 * is removed afterwards, so running the demo never adds to the user's own workbench database.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  parseFlags(args, {});
  const tempDir = ctx.dbIsDefault ? mkdtempSync(path.join(tmpdir(), 'rw-demo-')) : null;
  const dbPath = tempDir ? path.join(tempDir, 'demo.sqlite') : ctx.dbPath;
  try {
    const parsed = DEMO_FILES.map((f) => importFile(f, { format: 'jsonl', name: `demo ${path.basename(f, '.jsonl')}` }));
    const store = openStoreAt(dbPath, { createDir: tempDir !== null, source: 'database' });
    try {
      const ids = parsed.map((p) => store.datasets.insert(p));
      const examples = ids.flatMap((id) => store.datasets.examples(id));
      const records = ids.map((id) => store.datasets.get(id)!);
      const total = records.reduce((s, r) => s + r.exampleCount, 0);
      const withRationale = records.reduce((s, r) => s + r.withRationale, 0);
      const byLanguage: Record<string, { examples: number; labels: Record<string, number>; meanRationaleWords: number }> = {};
      for (const e of examples) {
        const s = (byLanguage[e.language] ??= { examples: 0, labels: {}, meanRationaleWords: 0 });
        s.examples++;
        for (const l of e.labels) s.labels[l] = (s.labels[l] ?? 0) + 1;
        s.meanRationaleWords += (e.rationaleMask ?? []).reduce((a, b) => a + b, 0);
      }
      for (const s of Object.values(byLanguage)) s.meanRationaleWords = Math.round((s.meanRationaleWords / s.examples) * 100) / 100;
      if (ctx.json) {
        ctx.out(JSON.stringify({ datasetIds: ids, examples: total, withRationale, byLanguage, db: tempDir ? null : dbPath }));
        return 0;
      }
      ctx.out(`Rationale Workbench demo: imported ${total} review sentences (${withRationale} with a human rationale) into ${tempDir ? 'a temporary database' : dbPath}`);
      for (const [lang, s] of Object.entries(byLanguage)) {
        const labels = Object.entries(s.labels).map(([l, n]) => `${n} ${l}`).join(', ');
        ctx.out(`  ${lang}: ${s.examples} sentences (${labels}), ${s.meanRationaleWords} rationale words on average`);
      }
      ctx.out('First sentence per language, [brackets] = human rationale words:');
      for (const lang of Object.keys(byLanguage)) ctx.out(`  ${describeExample(examples.find((e) => e.language === lang)!)}`);
      ctx.out('Next: import your own data with `npm run --silent cli -- import <file> --format csv|jsonl|msst|rafola|climate-fever`.');
      return 0;
    } finally {
      store.close();
    }
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}
