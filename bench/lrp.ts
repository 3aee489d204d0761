// npm run bench:lrp — the LRP engine on a generated ~100M-parameter llama model at 128 tokens, in F16, Q8_0
// and Q4_K: engine forward, forward + CP-LRP backward, their ratio, tokens/s, peak RSS of a process doing only
// the engine work, and the engine's forward against node-llama-cpp's evaluation of the same tokens (same run,
// same machine, 2 threads each); also forward + AttnLRP backward. Then the same sizes in the qwen3 and gemma3
// layouts (Q4_K) next to llama: LRP/fwd and AttnLRP/fwd per architecture (`npm run bench -- lrp --archs`: only
// that table). Then precision f32 against int8 (`npm run bench -- lrp --precision`: only that table; see
// precisionTable below), ending with the Llama-2-7B-shaped Q4_K model (bench/model-7b.ts) at 150 tokens.
// Models are cached under .cache/bench-lrp/,
// named by a hash of everything that determines their bytes, so reruns reuse them and any change regenerates.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, type ControlledEvaluateInputItem, type Token } from 'node-llama-cpp';
import { lrpKernels, openLrpModel, type Attribution, type LrpPrecision } from '../main/lrp/index';
import { generateModelSync } from '../main/gguf/generate';
import { RefModel, reference } from '../tests/lrp/reference';
import { ensureModel7b } from './model-7b';
import { quantize } from '../main/gguf/quant/index';
import { GgmlType as G } from '../main/gguf/quant/types';
import { copiedVocab } from '../main/gguf/vocab';
import { kv, writeGguf, type TensorToWrite } from '../main/gguf/writer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache/bench-lrp');
const THREADS = 2, T = 128;
const cfg = { nLayer: 14, d: 768, ff: 2048, nHead: 12, nHeadKv: 12, vocab: 512 };
const stories = path.resolve(root, '../shared/models/stories260K.gguf');

function paramsCount(): number {
  const { nLayer, d, ff, vocab } = cfg;
  return 2 * vocab * d + nLayer * (4 * d * d + 3 * d * ff + 2 * d) + d;
}

// Weights are rows drawn from a pool of 256 random rows per (type, row length), quantized once: timing does
// not depend on the values, and quantizing 100M values to K-quants in TypeScript would take minutes.
type BenchArch = 'llama' | 'qwen3' | 'gemma3';
function makeModel(file: string, type: number, A: BenchArch): void {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  const pools = new Map<string, Uint8Array[]>();
  const pool = (t: number, C: number, scale: number) => {
    const key = `${t}:${C}:${scale}`;
    let p = pools.get(key);
    if (!p) {
      p = [];
      for (let i = 0; i < 256; i++) {
        const row = new Float32Array(C);
        for (let c = 0; c < C; c++) row[c] = scale * rnd();
        p.push(t === G.F32 ? new Uint8Array(row.buffer) : quantize(t, row));
      }
      pools.set(key, p);
    }
    return p;
  };
  const tensors: TensorToWrite[] = [];
  const mat = (name: string, C: number, R: number, t: number, scale: number, base = 0) => {
    tensors.push({
      name, shape: R === 1 ? [C] : [C, R], type: t,
      data: () => {
        if (base !== 0) {
          const x = new Float32Array(C);
          for (let i = 0; i < C; i++) x[i] = base + scale * rnd();
          return new Uint8Array(x.buffer);
        }
        const p = pool(t, C, scale);
        const out = new Uint8Array(p[0].length * R);
        let off = Math.floor(Math.abs(rnd()) * 256);
        for (let r = 0; r < R; r++) out.set(p[(off + r * 7) % 256], r * p[0].length);
        off++;
        return out;
      },
    });
  };
  const { nLayer, d, ff, nHead, nHeadKv, vocab } = cfg;
  const hd = d / nHead;
  mat('token_embd.weight', d, vocab, type, A === 'gemma3' ? 1 / Math.sqrt(d) : 1);
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}.`;
    mat(p + 'attn_norm.weight', d, 1, G.F32, 0.1, 1);
    mat(p + 'attn_q.weight', d, d, type, 1.5 / Math.sqrt(d));
    mat(p + 'attn_k.weight', d, d, type, 1.5 / Math.sqrt(d));
    mat(p + 'attn_v.weight', d, d, type, 1.5 / Math.sqrt(d));
    if (A !== 'llama') {
      mat(p + 'attn_q_norm.weight', hd, 1, G.F32, 0.1, 1);
      mat(p + 'attn_k_norm.weight', hd, 1, G.F32, 0.1, 1);
    }
    mat(p + 'attn_output.weight', d, d, type, 1 / Math.sqrt(d));
    if (A === 'gemma3') mat(p + 'post_attention_norm.weight', d, 1, G.F32, 0.1, 1);
    mat(p + 'ffn_norm.weight', d, 1, G.F32, 0.1, 1);
    mat(p + 'ffn_gate.weight', d, ff, type, 1.5 / Math.sqrt(d));
    mat(p + 'ffn_up.weight', d, ff, type, 1.5 / Math.sqrt(d));
    mat(p + 'ffn_down.weight', ff, d, type, 1 / Math.sqrt(ff));
    if (A === 'gemma3') mat(p + 'post_ffw_norm.weight', d, 1, G.F32, 0.1, 1);
  }
  mat('output_norm.weight', d, 1, G.F32, 0.1, 1);
  mat('output.weight', d, vocab, type, 2 / Math.sqrt(d));
  // gemma3: Gemma 3's pattern (5 local layers of window 32 here, so the 128 tokens meet it, then 1 global)
  const archKv = A === 'gemma3'
    ? [kv.u32(`${A}.attention.sliding_window`, 32), kv.u32(`${A}.attention.sliding_window_pattern`, 6), kv.f32(`${A}.rope.freq_base`, 1e6), kv.f32(`${A}.rope.freq_base_swa`, 1e4)]
    : A === 'qwen3' ? [kv.f32(`${A}.rope.freq_base`, 1e6)] : [];
  writeGguf(file + '.tmp', {
    kv: [
      kv.str('general.architecture', A), kv.str('general.name', 'bench-100M'),
      kv.u32(`${A}.block_count`, nLayer), kv.u32(`${A}.context_length`, 512), kv.u32(`${A}.embedding_length`, d),
      kv.u32(`${A}.feed_forward_length`, ff), kv.u32(`${A}.attention.head_count`, nHead),
      kv.u32(`${A}.attention.head_count_kv`, nHeadKv), kv.f32(`${A}.attention.layer_norm_rms_epsilon`, 1e-5),
      kv.u32(`${A}.rope.dimension_count`, d / nHead), ...archKv,
      ...copiedVocab({ path: stories }).kv,
    ],
    tensors,
  });
  renameSync(file + '.tmp', file);
}

/**
 * The cached model for `type`: .cache/bench-lrp/bench-100M-<type>-<hash>.gguf, the hash covering the sizes, the
 * type, the generator's own source and the tokenizer file's size and mtime. Stale files of the same type go.
 */
function cachedModel(name: string, type: number, arch: BenchArch = 'llama'): { file: string; generatedMs?: number } {
  const tok = statSync(stories);
  const key = JSON.stringify({ cfg, type, arch, generator: makeModel.toString(), tokenizer: [tok.size, tok.mtimeMs] });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const prefix = arch === 'llama' ? `bench-100M-${name}` : `bench-100M-${arch}-${name}`;
  const file = path.join(cacheDir, `${prefix}-${hash}.gguf`);
  if (existsSync(file)) return { file };
  for (const old of readdirSync(cacheDir)) {
    if (old === `${prefix}.gguf` || (old.startsWith(`${prefix}-`) && old.endsWith('.gguf'))) rmSync(path.join(cacheDir, old), { force: true });
  }
  const t0 = performance.now();
  makeModel(file, type, arch);
  return { file, generatedMs: performance.now() - t0 };
}

const tokens = Array.from({ length: T }, (_, i) => (i === 0 ? 1 : 3 + ((i * 97) % 500)));

// child: engine only, so its peak RSS is the engine's. `save` (the default path: every layer's activations kept)
// times forward, CP-LRP and AttnLRP; `recompute` times CP-LRP with layers recomputed in the backward.
async function child(file: string, mode: 'save' | 'recompute'): Promise<void> {
  const baseKb = process.resourceUsage().maxRSS; // Node + tsx before the engine touches anything
  const m = openLrpModel(file, { threads: THREADS });
  await m.forward(tokens); // warm the page cache and the mapping
  let fwd = Infinity, lrp = Infinity, bwd = Infinity, attn = Infinity, savedBytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await m.forward(tokens);
    fwd = Math.min(fwd, performance.now() - t0);
    const t1 = performance.now();
    const r = await m.attribute({ tokens, target: 7, rule: 'cp', activations: mode });
    lrp = Math.min(lrp, performance.now() - t1);
    bwd = Math.min(bwd, r.timings.backwardMs);
    savedBytes = r.savedBytes;
    if (mode === 'recompute') continue;
    const t2 = performance.now();
    await m.attribute({ tokens, target: 7, rule: 'attn', activations: mode });
    attn = Math.min(attn, performance.now() - t2);
  }
  m.close();
  process.stdout.write(JSON.stringify({ fwd, lrp, bwd, attn, savedBytes, baseKb, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

const REPEATS = 3;
const PAIRS = 5;

function runChild(name: string, file: string, mode: 'save' | 'recompute') {
  const c = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), fileURLToPath(import.meta.url), '--child', file, mode], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`engine child (${mode}) failed for ${name}: ${c.stderr}`);
  return JSON.parse(c.stdout.trim().split('\n').pop()!) as { fwd: number; lrp: number; bwd: number; attn: number; savedBytes: number; baseKb: number; maxRssKb: number };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4] === 'recompute' ? 'recompute' : 'save');
  mkdirSync(cacheDir, { recursive: true });
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: THREADS, logLevel: 'error' as never });
  const { nLayer, d, ff, nHead } = cfg;
  // what the backward keeps per layer (q, k, v, FFN gate/up, norms; attention maps are recomputed) + working buffers
  const actBytes = 4 * (T * d + nLayer * (3 * T * d + 2 * T * ff + 2 * T) + 4 * T * Math.max(d, ff) + THREADS * T * T);
  console.log(`model: llama, ${nLayer} layers, d ${d}, ffn ${ff}, ${nHead} heads, vocab ${cfg.vocab}: ${(paramsCount() / 1e6).toFixed(1)}M parameters; ${T} tokens; ${THREADS} threads`);
  console.log(`saved activations (estimate): ${(actBytes / 2 ** 20).toFixed(1)} MiB`);
  const k = lrpKernels();
  console.log(`engine kernels: ${k.kernels} (${k.reason}; RW_LRP_KERNELS=generic forces the portable build)`);
  const recompute: string[][] = [['type', 'fwd ms', 'fwd+LRP ms', 'LRP/fwd', 'saved MiB (save)', 'saved MiB (recompute)', 'engine RSS MiB (save)', 'engine RSS MiB (recompute)']];
  const rows: string[][] = [['type', 'file MiB', 'fwd ms', 'fwd+LRP ms', 'LRP/fwd', 'fwd+attn ms', 'attn/fwd', 'fwd tok/s', 'LRP tok/s', 'peak RSS MiB', 'engine RSS MiB', 'engine/(file+act)', 'fwd ms (paired)', 'llama.cpp ms (paired)', 'fwd/llama.cpp']];
  const archsOnly = process.argv.includes('--archs');
  if (process.argv.includes('--precision')) {
    await llama.dispose();
    return precisionTable();
  }
  for (const [name, type] of archsOnly ? [] : ([['F16', G.F16], ['Q8_0', G.Q8_0], ['Q4_K', G.Q4_K]] as const)) {
    const { file, generatedMs } = cachedModel(name, type);
    console.log(generatedMs === undefined ? `cached ${path.relative(root, file)}` : `generated ${path.relative(root, file)} in ${(generatedMs / 1000).toFixed(1)} s`);
    const size = statSync(file).size;
    const e = runChild(name, file, 'save');
    // The engine's forward against node-llama-cpp's evaluation of the same tokens (probabilities at the last
    // position), measured here in alternation (engine, llama.cpp, engine, ...) so a change of machine load hits
    // both alike; best of PAIRS each after a warm-up of each. (The child's fwd above is the LRP ratios' baseline.)
    const model = await llama.loadModel({ modelPath: file });
    const engine = openLrpModel(file, { threads: THREADS });
    const items: ControlledEvaluateInputItem[] = tokens.map((t, j) => (j === T - 1 ? [t as Token, { generateNext: { probabilities: true } }] : (t as Token)));
    let ref = Infinity, mine = Infinity;
    for (let i = 0; i <= PAIRS; i++) {
      const t0 = performance.now();
      await engine.forward(tokens);
      if (i > 0) mine = Math.min(mine, performance.now() - t0);
      const ctx = await model.createContext({ contextSize: 512, threads: THREADS });
      const seq = ctx.getSequence();
      const t1 = performance.now();
      await seq.controlledEvaluate(items);
      if (i > 0) ref = Math.min(ref, performance.now() - t1);
      await ctx.dispose();
    }
    engine.close();
    await model.dispose();
    const rss = (e.maxRssKb * 1024) / 2 ** 20;
    rows.push([
      name, (size / 2 ** 20).toFixed(1), e.fwd.toFixed(0), e.lrp.toFixed(0), (e.lrp / e.fwd).toFixed(2), e.attn.toFixed(0), (e.attn / e.fwd).toFixed(2),
      ((T * 1000) / e.fwd).toFixed(0), ((T * 1000) / e.lrp).toFixed(0), rss.toFixed(0),
      (((e.maxRssKb - e.baseKb) * 1024) / 2 ** 20).toFixed(0), (((e.maxRssKb - e.baseKb) * 1024) / (size + actBytes)).toFixed(2), mine.toFixed(0), ref.toFixed(0), (mine / ref).toFixed(2),
    ]);
    const rc = runChild(name, file, 'recompute');
    recompute.push([
      name, rc.fwd.toFixed(0), rc.lrp.toFixed(0), (rc.lrp / rc.fwd).toFixed(2), (e.savedBytes / 2 ** 20).toFixed(1), (rc.savedBytes / 2 ** 20).toFixed(1),
      (((e.maxRssKb - e.baseKb) * 1024) / 2 ** 20).toFixed(0), (((rc.maxRssKb - rc.baseKb) * 1024) / 2 ** 20).toFixed(0),
    ]);
  }
  // the same sizes in the other architectures' layouts, Q4_K: what q/k norms, post-norms, GELU and the sliding
  // window cost next to llama (engine-only child, as above)
  const archs: string[][] = [['arch (Q4_K)', 'fwd ms', 'fwd+LRP ms', 'LRP/fwd', 'fwd+attn ms', 'attn/fwd']];
  for (const arch of ['llama', 'qwen3', 'gemma3'] as const) {
    const { file, generatedMs } = cachedModel('Q4_K', G.Q4_K, arch);
    if (generatedMs !== undefined) console.log(`generated ${path.relative(root, file)} in ${(generatedMs / 1000).toFixed(1)} s`);
    const e = runChild(`${arch} Q4_K`, file, 'save');
    archs.push([arch, e.fwd.toFixed(0), e.lrp.toFixed(0), (e.lrp / e.fwd).toFixed(2), e.attn.toFixed(0), (e.attn / e.fwd).toFixed(2)]);
  }
  await llama.dispose();
  if (!archsOnly) printMain();
  function printMain() {
    table(rows);
    console.log(`LRP = CP-LRP (gate half), attn = AttnLRP; each best of ${REPEATS} after a warm-up forward (engine-only child); fwd/llama.cpp: best of ${PAIRS} each, measured in alternation in this process`);
    console.log('targets: LRP/fwd <= 3, fwd/llama.cpp <= 1.5, engine/(file+act) < 1.5 (engine RSS = peak RSS of the engine-only child minus its RSS before opening the model)');
    console.log('\nactivations: recompute (each layer recomputed from its input in the backward; chosen automatically when saving all would exceed 1/4 of RAM), CP-LRP, separate child:');
    table(recompute);
  }
  console.log('\narchitectures: the same sizes as qwen3 (q/k norms) and gemma3 (q/k norms, post-norms, GELU, 5 of 6 layers with a 32-token window), Q4_K:');
  table(archs);
  if (!archsOnly) await precisionTable();
}

const table = (t: string[][]) => {
  const w = t[0].map((_, i) => Math.max(...t.map((r) => r[i].length)));
  for (const r of t) console.log(r.map((x, i) => x.padStart(w[i])).join('  '));
};
const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
};
const gap = (r: Attribution) => Math.abs(r.relevance.reduce((s, x) => s + x, 0) - r.value) / Math.abs(r.value);
const e2 = (x: number) => x.toExponential(1);

/**
 * Precision f32 against int8 (8-bit products on quantized weights), CP-LRP (gate half), 2 threads, in one process:
 * the two precisions alternate (f32, int8, f32, ...; best of `reps` each after a warm-up of each), so a change of
 * load hits both and their ratio is meaningful on a busy machine. Errors: rel-L2 = ||R - R_ref|| / ||R_ref|| of
 * the token relevances against the float32 path and (on a model small enough for it) against the float64
 * reference (tests/lrp/reference.ts); conservation gap = |sum R - logit| / |logit| of the path's own logit.
 * The int8 run explains the float32 run's target token.
 */
async function precisionTable(): Promise<void> {
  const rows: string[][] = [['model', 'tokens', 'precision', 'fwd ms', 'fwd+LRP ms', 'f32/int8 (fwd+LRP)', 'fwd+LRP CPU s', 'f32/int8 (CPU)', 'rel-L2 vs f32', 'rel-L2 vs float64', 'conservation gap']];
  const measure = async (name: string, file: string, toks: number[], reps: number, ref?: RefModel) => {
    const m = openLrpModel(file, { threads: THREADS });
    try {
      const best: Record<LrpPrecision, Attribution | undefined> = { f32: undefined, int8: undefined };
      const total: Record<LrpPrecision, number> = { f32: Infinity, int8: Infinity };
      const fwd: Record<LrpPrecision, number> = { f32: Infinity, int8: Infinity };
      // CPU seconds of the process (all engine threads) per explanation: less sensitive to other processes than
      // wall time when the machine is shared
      const cpu: Record<LrpPrecision, number> = { f32: Infinity, int8: Infinity };
      let target: number | undefined;
      for (let i = 0; i <= reps; i++) {
        for (const precision of ['f32', 'int8'] as const) {
          const c0 = process.cpuUsage();
          const r = await m.attribute({ tokens: toks, rule: 'cp', precision, target });
          const c = process.cpuUsage(c0);
          target ??= r.target;
          best[precision] = r;
          if (i === 0 && reps > 0) continue; // warm-up (page cache, mapping)
          total[precision] = Math.min(total[precision], r.timings.totalMs);
          fwd[precision] = Math.min(fwd[precision], r.timings.forwardMs);
          cpu[precision] = Math.min(cpu[precision], (c.user + c.system) / 1e6);
        }
      }
      const rf = ref ? reference(ref, toks, { target: target!, rule: 'cp', gate: 'half' }) : undefined;
      for (const p of ['f32', 'int8'] as const) {
        const r = best[p]!;
        rows.push([
          name, String(toks.length), p, fwd[p].toFixed(0), total[p].toFixed(0), p === 'int8' ? (total.f32 / total.int8).toFixed(2) : '',
          cpu[p].toFixed(2), p === 'int8' ? (cpu.f32 / cpu.int8).toFixed(2) : '',
          p === 'int8' ? e2(relL2(r.relevance, best.f32!.relevance)) : '', rf ? e2(relL2(r.relevance, rf.relevance)) : '-', e2(gap(r)),
        ]);
        console.log(`  ${rows[rows.length - 1].join(' | ')}`); // as measured (the 7B rows take minutes)
      }
    } finally {
      m.close();
    }
  };
  mkdirSync(cacheDir, { recursive: true });
  // float64 reference: a llama small enough for it (4 layers, d 512, FFN 1536, 512-token vocabulary, 64 tokens)
  const refFile = path.join(cacheDir, 'precision-ref-q4k.gguf'); // any such file will do: the reference reads it too
  if (!existsSync(refFile)) generateModelSync({ path: refFile, arch: 'llama', weightType: 'Q4_K', nLayer: 4, nEmbd: 512, nHead: 8, nHeadKv: 8, nFf: 1536, contextLength: 128, vocab: { path: stories } });
  const toks64 = tokens.slice(0, 64);
  await measure('llama 4L d512 Q4_K (reference)', refFile, toks64, 2, new RefModel(refFile));
  for (const [name, type] of [['Q8_0', G.Q8_0], ['Q4_K', G.Q4_K]] as const) {
    await measure(`bench-100M ${name}`, cachedModel(name, type).file, tokens, 2);
  }
  // the target: Llama-2-7B-shaped Q4_K, 150 tokens, 2 threads, forward + CP-LRP <= 15 s (quiet machine)
  const file7b = ensureModel7b({ log: console.log });
  const toks150 = Array.from({ length: 150 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 997) % 31000)));
  await measure('llama2-7B shape Q4_K', file7b, toks150, 1);
  console.log(`\nprecision (CP-LRP, gate half, ${THREADS} threads; f32 and int8 alternating in one process, best of the runs after a warm-up; load average at the end ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores):`);
  table(rows);
  console.log('rel-L2 = ||R - R_ref|| / ||R_ref|| over the tokens; conservation gap = |sum R - logit| / |logit| (the path\'s own logit); int8 explains the f32 run\'s target');
}

await main();
