/**
 * `npm run bench -- study --shape 7b [--examples N] [--threads 2] [--layers L] [--no-occlusion] [--no-compare]`
 * `npm run bench -- study --shape 7b --long [512,1024,2048] [--layers L]`
 *
 * A study per night (issue 14): the Llama-2-7B-shaped Q4_K model (bench/model-7b.ts), its Llama 2 chat template,
 * the 20 English sentences of bench/study-parts/sentences-en.ts, and the runner's own per-example pipeline (runner/example.ts)
 * with self-explanation, CP-LRP, the paper's masking test (prob-drop) and k-greedy flipping; occlusion in a
 * separate pass. The model is loaded as a study run loads it (models/session.ts llamaLoadOptions, runner/fit.ts
 * studyContextSize), once, and every pass runs in this one process, so ratios between passes are measured under
 * the same load:
 *   all on        the pipeline as the runner runs it (KV prefix reuse, masked readouts read once)
 *   no memo       every masked readout evaluated even when its set was read before for the example
 *   no KV reuse   every evaluation from an empty KV cache (the protocol's canonical chunks still, so the same bits)
 * The passes after the first take CP-LRP's relevances from the first (the engine is deterministic: same bits),
 * so they cost only what they change. Each pass's stored result (less timings) must equal the first's: the
 * bench says so, or fails.
 * Prints seconds per example by phase, the extrapolated time of a 250-sentence study, and peak RSS and PSS per
 * phase (RSS: the kernel's high-water mark since the phase began, reset through /proc/self/clear_refs; PSS:
 * /proc/self/smaps_rollup sampled every 250 ms; RSS counts a file mapped twice twice, PSS once).
 * --long: llama.cpp's evaluation of T tokens and the LRP engine's forward + CP-LRP at each T, time, peak RSS/PSS
 * and the engine's activation / working-memory figures.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { parseStudyConfig } from '../../main/config/study-schema';
import { importFile } from '../../main/datasets/index';
import { openLrpModel, type LrpModel } from '../../main/lrp';
import { llamaLoadOptions, sessionLlama } from '../../main/models/session';
import { chatTemplateOf, fillerToken, nextTokenDistribution } from '../../main/protocol';
import { makeProcessor } from '../../main/runner/example';
import { studyContextSize } from '../../main/runner/fit';
import type { ExampleContext } from '../../main/runner/loop';
import { openStore, type ResultInput, type RunRecord } from '../../main/store';
import { ensureModel7b } from '../model-7b';
import { BENCH_SENTENCES_EN } from './sentences-en';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const threads = Number(arg('threads') ?? 2);
const nExamples = Math.min(BENCH_SENTENCES_EN.length, Number(arg('examples') ?? 2));
const layers = arg('layers') ? Number(arg('layers')) : undefined;
const MiB = 2 ** 20;

// ---- memory: peak RSS (kernel high-water mark, reset per phase) and sampled PSS -----------------------------
function rollup(): { rss: number; pss: number } {
  const s = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss') };
}
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
class MemWatch {
  peaks = new Map<string, { rss: number; pss: number }>();
  private pss = 0;
  private timer = setInterval(() => this.sample(), 250);
  constructor() {
    this.reset();
  }
  private sample(): void {
    this.pss = Math.max(this.pss, rollup().pss);
  }
  private reset(): void {
    writeFileSync('/proc/self/clear_refs', '5'); // VmHWM := current RSS
    this.pss = rollup().pss;
  }
  /** The phase that just ended gets the peaks since the last call. */
  end(phase: string): void {
    this.sample();
    const p = this.peaks.get(phase) ?? { rss: 0, pss: 0 };
    this.peaks.set(phase, { rss: Math.max(p.rss, hwm()), pss: Math.max(p.pss, this.pss) });
    this.reset();
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * The sequence as the protocol sees it, with the tokens it is given to evaluate counted (llama.cpp's work, whatever
 * the machine's load; generated tokens not included), and with kvReuse false its KV cache never reused: infer.ts
 * then finds no cached tokens.
 */
function observed(seq: LlamaContextSequence, kvReuse: boolean, count: { tokens: number }): LlamaContextSequence {
  return new Proxy(seq, {
    get(t, p) {
      if (p === 'contextTokens' && !kvReuse) return [];
      const v = Reflect.get(t, p, t);
      if (p === 'controlledEvaluate' || p === 'evaluate') {
        return (input: unknown[], ...rest: unknown[]) => {
          count.tokens += input.length;
          return (v as (...a: unknown[]) => unknown).call(t, input, ...rest);
        };
      }
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/** The engine with its relevances remembered (later passes reuse the first pass's: same bits, no time). */
function rememberingLrp(lrp: LrpModel): LrpModel {
  const seen = new Map<string, unknown>();
  return new Proxy(lrp, {
    get(t, p) {
      if (p !== 'attribute') {
        const v = Reflect.get(t, p, t);
        return typeof v === 'function' ? v.bind(t) : v;
      }
      return async (req: Parameters<LrpModel['attribute']>[0]) => {
        const key = JSON.stringify({ ...req, signal: undefined });
        if (!seen.has(key)) seen.set(key, await t.attribute(req));
        return seen.get(key);
      };
    },
  });
}

/** llama.cpp's F16 KV cache: keys and values of every layer, per cell. */
function kvCacheBytes(model: { fileInfo: { metadata: unknown } }, cells: number): number {
  type Arch = { block_count: number; embedding_length: number; attention: { head_count: number; head_count_kv?: number } };
  const md = model.fileInfo.metadata as Record<string, Arch> & { general: { architecture: string } };
  const a = md[md.general.architecture as string] as Arch;
  const heads = a.attention.head_count;
  return cells * a.block_count * 2 * (a.embedding_length / heads) * (a.attention.head_count_kv ?? heads) * 2;
}

/** A result as stored, less what measures time. */
const comparable = (r: ResultInput) =>
  JSON.stringify({ ...r, relevance: r.relevance?.map((x) => ({ ...x, meta: { ...(x.meta ?? {}), ms: undefined } })) });

async function studyBench(): Promise<void> {
  const file = ensureModel7b({ ...(layers ? { nLayer: layers } : {}), log: console.log });
  const fileBytes = statSync(file).size;
  const dir = mkdtempSync(join(tmpdir(), 'rw-bench-study7b-'));
  const mem = new MemWatch();
  try {
    const jsonl = join(dir, 'sentences.jsonl');
    writeFileSync(jsonl, BENCH_SENTENCES_EN.map((s) => JSON.stringify({ ...s, language: 'en' })).join('\n') + '\n');
    const store = openStore(join(dir, 'bench.sqlite'));
    const datasetId = store.datasets.insert(importFile(jsonl, { format: 'jsonl', language: 'en', name: 'bench-sentences-en' }));
    const studyOf = (explanations: string[], metrics: string[]) => {
      const r = parseStudyConfig({
        name: 'bench 7B', task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId },
        models: [{ path: file, mode: 'scoring' }], seeds: [28], explanations, binarisation: 'top-k-human',
        // extractive: turn 2's grammar admits only the text's own words, as a real model answers; the generated
        // model's random weights otherwise fill the free JSON grammar's strings and miss the text (no LRP then)
        selfExplanation: { k: 'human', matching: 'robust', extractive: true }, onlyCorrect: false, metrics, limits: { threads },
      });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config;
    };
    const config = studyOf(['human', 'self', 'lrp-cp'], ['accuracy', 'prob-drop', 'k-greedy-flipping']);
    const examples = store.datasets.examples(datasetId);
    mem.end('start');
    const llama = await sessionLlama(false, threads);
    const t0 = performance.now();
    const model = await llama.loadModel({ modelPath: file, ...llamaLoadOptions });
    const loadMs = performance.now() - t0;
    mem.end('load (llama.cpp)');
    const contextSize = studyContextSize(model.trainContextSize, { model, template: chatTemplateOf(model) }, config, examples);
    const context = await model.createContext({ contextSize, threads, sequences: 1 });
    const kvBytes = kvCacheBytes(model, context.contextSize);
    mem.end('context');
    const engine = openLrpModel(file, { threads });
    mem.end('engine open');
    const lrp = rememberingLrp(engine);
    const sequence = context.getSequence();
    const template = chatTemplateOf(model);
    const filler = fillerToken(model, 'underscore');
    console.log(`model ${file} (${(fileBytes / 2 ** 30).toFixed(2)} GiB, ${layers ?? 32} layers), loaded in ${(loadMs / 1000).toFixed(1)} s; context ${context.contextSize} tokens (KV cache ${(kvBytes / MiB).toFixed(0)} MiB); ${threads} threads; ${nExamples} examples; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

    type Pass = { name: string; reuseMaskedReadouts: boolean; kvReuse: boolean; config: typeof config };
    const run = async (p: Pass) => {
      const count = { tokens: 0 };
      const seq = observed(sequence, p.kvReuse, count);
      const evaluated: Record<string, number> = {};
      let counted = 0;
      await sequence.clearHistory();
      const processor = makeProcessor({ rt: { llama, model, sequence: seq, template }, lrp, filler: filler as Token, config: p.config, seed: 28, mode: 'scoring', reuseMaskedReadouts: p.reuseMaskedReadouts });
      const phases: Record<string, number> = {};
      const results: string[] = [];
      const w0 = performance.now();
      for (const ex of examples.slice(0, nExamples)) {
        mem.end('other');
        counted = count.tokens;
        const t: Record<string, number> = {};
        const timings = new Proxy(t, {
          set(o, k, v) {
            mem.end(String(k));
            evaluated[String(k)] = (evaluated[String(k)] ?? 0) + count.tokens - counted;
            counted = count.tokens;
            o[String(k)] = v;
            return true;
          },
        });
        const ctx = { run: {} as RunRecord, signal: new AbortController().signal, timings } satisfies ExampleContext;
        results.push(comparable(await processor(ex, ctx)));
        for (const [k, v] of Object.entries(t)) phases[k] = (phases[k] ?? 0) + v;
      }
      return { phases, results, evaluated, wall: performance.now() - w0 };
    };
    const first = await run({ name: 'all on', reuseMaskedReadouts: true, kvReuse: true, config });
    const perEx = (ms: number) => (ms / nExamples / 1000).toFixed(1);
    console.log(`\nper example (all on), seconds by phase:`);
    for (const [k, v] of Object.entries(first.phases)) console.log(`  ${k.padEnd(18)} ${perEx(v).padStart(7)} s  ${((first.evaluated[k] ?? 0) / nExamples).toFixed(0).padStart(6)} tokens evaluated by llama.cpp`);
    const tracked = Object.values(first.phases).reduce((a, b) => a + b, 0);
    console.log(`  ${'other'.padEnd(18)} ${perEx(first.wall - tracked).padStart(7)} s`);
    const skipped = first.results.map((r) => JSON.parse(r) as ResultInput).filter((r) => r.skippedReason).map((r) => r.skippedReason);
    if (skipped.length) console.log(`  skipped before the end of the pipeline: ${skipped.join(', ')}`);
    const turn2 = first.results.map((r) => (JSON.parse(r) as ResultInput).rawOutputs.turn2).filter((x): x is string => typeof x === 'string');
    if (turn2.length) console.log(`  turn 2 generated ${(turn2.reduce((a, x) => a + model.tokenize(x, false).length, 0) / turn2.length).toFixed(0)} tokens per example`);
    console.log(`  ${'total'.padEnd(18)} ${perEx(first.wall).padStart(7)} s  -> a 250-sentence study: ${((first.wall / nExamples) * 250 / 3.6e6).toFixed(2)} h (target 40 s/example, < 3 h)`);

    if (!flag('no-compare')) {
      const passes: Pass[] = [
        { name: 'no memo', reuseMaskedReadouts: false, kvReuse: true, config },
        { name: 'no KV reuse', reuseMaskedReadouts: true, kvReuse: false, config },
      ];
      console.log(`\neach optimisation off (CP-LRP relevances taken from the first pass), per phase: time / time with all on, and tokens llama.cpp evaluated / with all on (the work, whatever the load):`);
      const names = ['prediction', 'self-explanation', 'faithfulness', 'flipping'];
      console.log(`  ${'pass'.padEnd(14)} ${names.map((n) => n.padStart(16)).join(' ')}  same results`);
      for (const p of passes) {
        const r = await run(p);
        const same = r.results.every((x, i) => x === first.results[i]);
        const ratio = (a: Record<string, number>, b: Record<string, number>, n: string) => (b[n] ? (a[n] / b[n]).toFixed(2) : '-');
        console.log(`  ${p.name.padEnd(14)} ${names.map((n) => `${ratio(r.phases, first.phases, n)} / ${ratio(r.evaluated, first.evaluated, n)}`.padStart(16)).join(' ')}  ${same}`);
        if (!same) process.exitCode = 1;
      }
    }
    if (!flag('no-occlusion')) {
      const occ = await run({ name: 'occlusion', reuseMaskedReadouts: true, kvReuse: true, config: studyOf(['occlusion'], ['accuracy']) });
      console.log(`\nocclusion (separate pass): ${perEx(occ.phases.occlusion ?? 0)} s per example`);
    }
    mem.end('other');
    console.log(`\npeak memory by phase (MiB; file ${(fileBytes / MiB).toFixed(0)}, KV cache ${(kvBytes / MiB).toFixed(0)}, target: file x 1.5 + KV = ${((1.5 * fileBytes + kvBytes) / MiB).toFixed(0)}):`);
    for (const [k, v] of mem.peaks) console.log(`  ${k.padEnd(18)} RSS ${(v.rss / MiB).toFixed(0).padStart(6)}  PSS ${(v.pss / MiB).toFixed(0).padStart(6)}`);
    const all = [...mem.peaks.values()];
    const maxPss = Math.max(...all.map((x) => x.pss));
    console.log(`  whole process: peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)}, peak PSS ${(maxPss / MiB).toFixed(0)} = ${(maxPss / (fileBytes + kvBytes)).toFixed(2)} x (file + KV), ${((maxPss - kvBytes) / fileBytes).toFixed(2)} x file + KV`);
    engine.close();
    await context.dispose();
    await model.dispose();
    store.close();
  } finally {
    mem.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --long: llama.cpp evaluation and engine forward + CP-LRP at T tokens (Llama 2 ids of ordinary words). */
async function longBench(): Promise<void> {
  const sizes = (arg('long') && !arg('long')!.startsWith('--') ? arg('long')! : '512,1024,2048').split(',').map(Number);
  const file = ensureModel7b({ ...(layers ? { nLayer: layers } : {}), log: console.log });
  const mem = new MemWatch();
  const llama = await sessionLlama(false, threads);
  const model = await llama.loadModel({ modelPath: file, ...llamaLoadOptions });
  const text = BENCH_SENTENCES_EN.map((s) => s.text).join(' ');
  const base = model.tokenize(text, false);
  const engine = openLrpModel(file, { threads });
  console.log(`model ${file} (${layers ?? 32} layers), ${threads} threads, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log('  T      llama.cpp s  engine fwd s  CP-LRP bwd s  activations  saved MiB  peak RSS MiB  peak PSS MiB');
  for (const T of sizes) {
    const tokens = [1, ...Array.from({ length: T - 1 }, (_, i) => base[i % base.length])] as Token[];
    mem.end('other');
    const context = await model.createContext({ contextSize: Math.ceil((T + 8) / 256) * 256, threads, sequences: 1 });
    const seq = context.getSequence();
    const t0 = performance.now();
    await nextTokenDistribution(seq, tokens);
    const evalMs = performance.now() - t0;
    const r = await engine.attribute({ tokens, target: tokens[1], rule: 'cp' });
    await context.dispose();
    mem.end(`T=${T}`);
    const p = mem.peaks.get(`T=${T}`)!;
    console.log(
      `  ${String(T).padEnd(6)} ${(evalMs / 1000).toFixed(1).padStart(11)}  ${(r.timings.forwardMs / 1000).toFixed(1).padStart(12)}  ${(r.timings.backwardMs / 1000).toFixed(1).padStart(12)}  ${(r.recomputed ? 'recompute' : 'save').padStart(11)}  ${(r.savedBytes / MiB).toFixed(0).padStart(9)}  ${(p.rss / MiB).toFixed(0).padStart(12)}  ${(p.pss / MiB).toFixed(0).padStart(12)}`,
    );
  }
  engine.close();
  await model.dispose();
  mem.stop();
}

export async function main(): Promise<void> {
  if (flag('long')) await longBench();
  else await studyBench();
}

if (process.argv[1] && process.argv[1].endsWith('7b.ts')) await main();
