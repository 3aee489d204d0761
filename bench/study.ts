/**
 * npm run bench:study — examples per minute for the demo study (all demo-* studies on the generated demo
 * model, scoring mode) and how the time splits across prediction, self-explanation, LRP, occlusion and
 * faithfulness. Figures are ratios within this one run (shares of the per-example time), plus the
 * absolute rate on this machine; a second pass with --threads 1 gives the thread speed-up.
 *   npx tsx bench/study.ts [--threads N] [--only demo-sentiment-en] [--arch llama|qwen3|gemma3]
 *   npx tsx bench/study.ts --shape 7b [...]: the Llama-2-7B-shaped study per night (bench/study-parts/7b.ts)
 * --arch qwen3 / gemma3: the demo model's shape (layers, widths) as a Qwen 3 model (Qwen 2's real BPE vocabulary,
 * Qwen 3's chat template, thinking off) or a Gemma 3 model (Llama 2's SentencePiece vocabulary, Gemma 3's template,
 * local sliding-window layers), generated into a temp directory and run in the demo model's place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStudies } from '../main/studies/builtins';
import { generateModel, type GenerateModelOptions } from '../main/gguf/generate';
import { DEMO_MODEL_OPTIONS, ensureDemoModel, runStudies } from '../main/runner';
import { openStore } from '../main/store';

// --shape 7b: the 7B-shaped study bench (bench/study-parts/7b.ts), its own flags
if (process.argv.includes('--shape')) {
  const shape = process.argv[process.argv.indexOf('--shape') + 1];
  if (shape !== '7b') {
    console.error(`--shape must be 7b, got "${shape}"`);
    process.exit(2);
  }
  await (await import('./study-parts/7b')).main();
  process.exit(process.exitCode ?? 0);
}

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const threads = Number(arg('threads') ?? 2);
const only = arg('only') ?? 'demo';
const arch = arg('arch') ?? 'llama';
// --workers: the study shared over 1, 2 and 3 queue workers instead (issue 15; bench/study-parts/workers.ts)
if (process.argv.includes('--workers')) {
  await import('./study-parts/workers');
  process.exit(0);
}

/** The demo model's shape in each architecture the bench can run (llama: the demo model itself). */
const ARCH_OPTIONS: Record<string, Partial<GenerateModelOptions> | null> = {
  llama: null,
  qwen3: { arch: 'qwen3', vocab: 'qwen2', chatTemplate: 'qwen3', tiedOutput: true, syntheticWords: undefined },
  gemma3: { arch: 'gemma3', vocab: 'llama-spm', chatTemplate: 'gemma3', slidingWindow: { window: 64, pattern: 2 }, syntheticWords: undefined },
};
if (!(arch in ARCH_OPTIONS)) {
  console.error(`--arch must be one of ${Object.keys(ARCH_OPTIONS).join(', ')}, got "${arch}"`);
  process.exit(2);
}

async function pass(t: number) {
  const dir = mkdtempSync(join(tmpdir(), 'rw-bench-study-'));
  const store = openStore(join(dir, 'bench.sqlite'));
  try {
    const t0 = performance.now();
    const reports = await runStudies(store, resolveStudies(only), { threads: t, log: () => {} });
    const wall = performance.now() - t0;
    const phases: Record<string, number> = {};
    let examples = 0;
    // skipped examples (e.g. a wrong answer when the study explains correct ones only) run no explanation phase
    const skipped: Record<string, number> = {};
    for (const r of reports) for (const x of r.runs) {
      examples += x.outcome.processed;
      for (const [k, v] of Object.entries(x.outcome.timings)) phases[k] = (phases[k] ?? 0) + v;
      for (const res of store.results.list(x.runId)) if (res.skippedReason) skipped[res.skippedReason] = (skipped[res.skippedReason] ?? 0) + 1;
    }
    return { wall, examples, phases, skipped };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// generation is set-up cost, not part of the figures
const archDir = ARCH_OPTIONS[arch] ? mkdtempSync(join(tmpdir(), `rw-bench-${arch}-`)) : null;
if (archDir) {
  const path = join(archDir, `demo-${arch}.gguf`);
  await generateModel({ ...DEMO_MODEL_OPTIONS, ...ARCH_OPTIONS[arch], name: `rw-demo-${arch}`, path });
  // the demo studies name their model $RW_DEMO_MODEL (runner/study.ts modelPathFor)
  process.env.RW_DEMO_MODEL = path;
} else await ensureDemoModel();
const a = await pass(threads);
const b = threads > 1 ? await pass(1) : null;
const perMin = (p: typeof a) => (p.examples / p.wall) * 60_000;
console.log(`bench:study — study "${only}" on the demo model${archDir ? ` shaped as ${arch}` : ''} (${a.examples} examples)`);
console.log(`threads ${threads}: ${perMin(a).toFixed(1)} examples/min (wall ${(a.wall / 1000).toFixed(1)} s)`);
const skippedText = Object.entries(a.skipped).map(([k, v]) => `${v} × ${k}`).join(', ');
if (skippedText) console.log(`  skipped (no explanation phases): ${skippedText}`);
const tracked = Object.values(a.phases).reduce((s, v) => s + v, 0);
for (const [k, v] of Object.entries(a.phases).sort((x, y) => y[1] - x[1])) {
  console.log(`  ${k.padEnd(18)} ${(v / a.examples).toFixed(0).padStart(7)} ms/example  ${((100 * v) / a.wall).toFixed(1).padStart(5)} % of wall`);
}
console.log(`  ${'other (store, setup)'.padEnd(18)} ${((a.wall - tracked) / a.examples).toFixed(0).padStart(7)} ms/example  ${((100 * (a.wall - tracked)) / a.wall).toFixed(1).padStart(5)} % of wall`);
if (b) console.log(`threads 1: ${perMin(b).toFixed(1)} examples/min; speed-up of ${threads} threads over 1: ${(perMin(a) / perMin(b)).toFixed(2)}x`);
if (archDir) rmSync(archDir, { recursive: true, force: true });
