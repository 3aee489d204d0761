/**
 * npm run bench:study — examples per minute for the demo study (all demo-* studies on the generated demo
 * model, scoring mode) and how the time splits across prediction, self-explanation, LRP, occlusion and
 * faithfulness. Figures are ratios within this one run (shares of the per-example time), plus the
 * absolute rate on this machine; a second pass with --threads 1 gives the thread speed-up.
 *   npx tsx bench/study.ts [--threads N] [--only demo-sentiment-en]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStudies } from '../main/studies/builtins';
import { ensureDemoModel, runStudies } from '../main/runner';
import { openStore } from '../main/store';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const threads = Number(arg('threads') ?? 2);
const only = arg('only') ?? 'demo';

async function pass(t: number) {
  const dir = mkdtempSync(join(tmpdir(), 'rw-bench-study-'));
  const store = openStore(join(dir, 'bench.sqlite'));
  try {
    const t0 = performance.now();
    const reports = await runStudies(store, resolveStudies(only), { threads: t, log: () => {} });
    const wall = performance.now() - t0;
    const phases: Record<string, number> = {};
    let examples = 0;
    for (const r of reports) for (const x of r.runs) {
      examples += x.outcome.processed;
      for (const [k, v] of Object.entries(x.outcome.timings)) phases[k] = (phases[k] ?? 0) + v;
    }
    return { wall, examples, phases };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await ensureDemoModel(); // generation is set-up cost, not part of the figures
const a = await pass(threads);
const b = threads > 1 ? await pass(1) : null;
const perMin = (p: typeof a) => (p.examples / p.wall) * 60_000;
console.log(`bench:study — study "${only}" on the demo model (${a.examples} examples)`);
console.log(`threads ${threads}: ${perMin(a).toFixed(1)} examples/min (wall ${(a.wall / 1000).toFixed(1)} s)`);
const tracked = Object.values(a.phases).reduce((s, v) => s + v, 0);
for (const [k, v] of Object.entries(a.phases).sort((x, y) => y[1] - x[1])) {
  console.log(`  ${k.padEnd(18)} ${(v / a.examples).toFixed(0).padStart(7)} ms/example  ${((100 * v) / a.wall).toFixed(1).padStart(5)} % of wall`);
}
console.log(`  ${'other (store, setup)'.padEnd(18)} ${((a.wall - tracked) / a.examples).toFixed(0).padStart(7)} ms/example  ${((100 * (a.wall - tracked)) / a.wall).toFixed(1).padStart(5)} % of wall`);
if (b) console.log(`threads 1: ${perMin(b).toFixed(1)} examples/min; speed-up of ${threads} threads over 1: ${(perMin(a) / perMin(b)).toFixed(2)}x`);
