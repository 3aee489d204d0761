/**
 * Benchmark models of real sizes, generated fast: `ensurePooledModel(shape)` writes a llama-architecture Q4_K GGUF
 * whose weight rows are copied from a small pool of random rows quantized once (quantizing 7B values in TypeScript
 * would take hours; copying 144-byte Q4_K super-blocks takes seconds). Every row is assembled super-block by
 * super-block from randomly chosen pool rows, so rows (and token embeddings) differ from each other, and the
 * weights are scaled so activations stay in a sane range through 32 layers (finite logits, tested by
 * `npm run bench -- model-7b`, which loads the file in node-llama-cpp, chats with it and checks its logits).
 *
 * `ensureModel7b(opts?)`: Llama 2 7B's shape (32 layers, d 4096, FFN 11008, 32 heads, Llama 2's real
 * SentencePiece vocabulary of 32000 pieces, Llama 2's chat template), ~3.8 GB, cached under .cache/bench-7b/,
 * named by its layer count and a hash of its options and of this generator's source, written atomically (temp file + rename).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantize } from '../main/gguf/quant/index';
import { GgmlType as G } from '../main/gguf/quant/types';
import { CHAT_TEMPLATES, type ChatTemplateName } from '../main/gguf/templates';
import { copiedVocab, realVocabPath, type RealVocabName } from '../main/gguf/vocab';
import { kv, writeGguf, type TensorToWrite } from '../main/gguf/writer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What determines a pooled model's bytes (all of it goes into the cache file's name). */
export interface PooledModelShape {
  name: string;
  nLayer: number;
  d: number;
  ff: number;
  nHead: number;
  nHeadKv: number;
  /** A real vocabulary copied from llama.cpp's vocab-only GGUFs (its size is the vocabulary size). */
  vocab: RealVocabName;
  /** Written as tokenizer.chat_template; null: none. */
  chatTemplate: ChatTemplateName | null;
  contextLength: number;
  ropeBase: number;
  rmsEps: number;
  /** Distinct random rows per (row length, scale) quantized once. */
  poolRows: number;
  seed: number;
}

/** Llama 2 7B (meta-llama/Llama-2-7b-chat-hf's config), Q4_K throughout (~3.8 GB, as Q4_K_S). */
export const LLAMA2_7B: PooledModelShape = {
  name: 'bench-llama2-7b', nLayer: 32, d: 4096, ff: 11008, nHead: 32, nHeadKv: 32, vocab: 'llama-spm', chatTemplate: 'llama2',
  contextLength: 4096, ropeBase: 10000, rmsEps: 1e-5, poolRows: 256, seed: 12345,
};

const QK_K = 256;
const Q4K_BLOCK = 144; // bytes of one Q4_K super-block (256 weights)

/** Writes the model to `file` (caller renames it into place). */
export function writePooledModel(file: string, s: PooledModelShape): void {
  let seed = s.seed >>> 0;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  const pools = new Map<string, Uint8Array>();
  // one buffer of poolRows quantized rows of C values, uniform in [-scale, scale]
  const pool = (C: number, scale: number): Uint8Array => {
    const key = `${C}:${scale}`;
    let p = pools.get(key);
    if (!p) {
      const rowBytes = (C / QK_K) * Q4K_BLOCK;
      p = new Uint8Array(rowBytes * s.poolRows);
      const row = new Float32Array(C);
      for (let i = 0; i < s.poolRows; i++) {
        for (let c = 0; c < C; c++) row[c] = scale * rnd();
        p.set(quantize(G.Q4_K, row), i * rowBytes);
      }
      pools.set(key, p);
    }
    return p;
  };
  const tensors: TensorToWrite[] = [];
  /** A Q4_K matrix of R rows of C values: super-block j of row r is super-block j of a pool row drawn at random. */
  const mat = (name: string, C: number, R: number, scale: number) => {
    tensors.push({
      name, shape: [C, R], type: G.Q4_K,
      data: () => {
        const p = pool(C, scale);
        const nb = C / QK_K, rowBytes = nb * Q4K_BLOCK;
        const out = new Uint8Array(rowBytes * R);
        for (let r = 0; r < R; r++) {
          for (let j = 0; j < nb; j++) {
            const src = ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % s.poolRows;
            const from = src * rowBytes + j * Q4K_BLOCK;
            out.set(p.subarray(from, from + Q4K_BLOCK), r * rowBytes + j * Q4K_BLOCK);
          }
        }
        return out;
      },
    });
  };
  /** An F32 norm weight: 1 + 0.1 * uniform. */
  const norm = (name: string, C: number) => {
    tensors.push({
      name, shape: [C], type: G.F32,
      data: () => {
        const x = new Float32Array(C);
        for (let i = 0; i < C; i++) x[i] = 1 + 0.1 * rnd();
        return new Uint8Array(x.buffer);
      },
    });
  };
  const { nLayer, d, ff, nHead, nHeadKv } = s;
  const hd = d / nHead;
  const vocab = copiedVocab(s.vocab);
  // Scales: a uniform [-a, a] row against an RMS-normalised input gives outputs of variance d a^2 / 3, so
  // a = 1.5 / sqrt(d) keeps q, k, v, gate and up near unit size, and the output projections (1 / sqrt(width))
  // add ~0.6-sized updates per layer to the residual stream, which stays within ~10 after 32 layers.
  mat('token_embd.weight', d, vocab.size, 1);
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}.`;
    norm(p + 'attn_norm.weight', d);
    mat(p + 'attn_q.weight', d, d, 1.5 / Math.sqrt(d));
    mat(p + 'attn_k.weight', d, hd * nHeadKv, 1.5 / Math.sqrt(d));
    mat(p + 'attn_v.weight', d, hd * nHeadKv, 1.5 / Math.sqrt(d));
    mat(p + 'attn_output.weight', d, d, 1 / Math.sqrt(d));
    norm(p + 'ffn_norm.weight', d);
    mat(p + 'ffn_gate.weight', d, ff, 1.5 / Math.sqrt(d));
    mat(p + 'ffn_up.weight', d, ff, 1.5 / Math.sqrt(d));
    mat(p + 'ffn_down.weight', ff, d, 1 / Math.sqrt(ff));
  }
  norm('output_norm.weight', d);
  mat('output.weight', d, vocab.size, 2 / Math.sqrt(d));
  const meta = [
    kv.str('general.architecture', 'llama'), kv.str('general.name', s.name), kv.u32('general.file_type', 14),
    kv.u32('llama.context_length', s.contextLength), kv.u32('llama.embedding_length', d), kv.u32('llama.block_count', nLayer),
    kv.u32('llama.feed_forward_length', ff), kv.u32('llama.attention.head_count', nHead), kv.u32('llama.attention.head_count_kv', nHeadKv),
    kv.f32('llama.rope.freq_base', s.ropeBase), kv.f32('llama.attention.layer_norm_rms_epsilon', s.rmsEps),
    kv.u32('llama.rope.dimension_count', hd), kv.u32('llama.vocab_size', vocab.size),
    ...vocab.kv.filter((e) => e.key !== 'tokenizer.chat_template'),
  ];
  if (s.chatTemplate) meta.push(kv.str('tokenizer.chat_template', CHAT_TEMPLATES[s.chatTemplate]));
  writeGguf(file, { kv: meta, tensors });
}

/**
 * The cached model for `shape` under `dir` (default .cache/bench-7b): `<name>-<layers>L-<hash>.gguf`, the hash covering the
 * shape, this generator's source and the vocabulary file's size and mtime. Older files of the same name go.
 */
export function ensurePooledModel(shape: PooledModelShape, opts: { dir?: string; log?: (line: string) => void } = {}): string {
  const dir = opts.dir ?? path.join(root, '.cache/bench-7b');
  mkdirSync(dir, { recursive: true });
  const v = statSync(realVocabPath(shape.vocab));
  const key = JSON.stringify({ shape, generator: writePooledModel.toString(), vocab: [v.size, v.mtimeMs] });
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const prefix = `${shape.name}-${shape.nLayer}L-`; // a shape with fewer layers (a quick check) is kept beside the full one
  const file = path.join(dir, `${prefix}${hash}.gguf`);
  if (existsSync(file)) return file;
  for (const old of readdirSync(dir)) {
    if (old.startsWith(prefix) && old.includes('.gguf')) rmSync(path.join(dir, old), { force: true });
  }
  const tmp = `${file}.tmp-${process.pid}`;
  const t0 = performance.now();
  try {
    writePooledModel(tmp, shape);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  opts.log?.(`generated ${path.relative(root, file)} (${(statSync(file).size / 2 ** 30).toFixed(2)} GiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return file;
}

/** Llama-2-7B-shaped Q4_K model (see LLAMA2_7B); `opts` overrides parts of the shape (e.g. fewer layers). */
export function ensureModel7b(opts: Partial<PooledModelShape> & { dir?: string; log?: (line: string) => void } = {}): string {
  const { dir, log, ...shape } = opts;
  return ensurePooledModel({ ...LLAMA2_7B, ...shape }, { dir, log });
}

// `npm run bench -- model-7b [--layers N]`: generate (or find) the model, load it in node-llama-cpp, chat one turn
// and check the next-token logits are finite.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--layers');
  const file = ensureModel7b({ ...(i > 0 ? { nLayer: Number(process.argv[i + 1]) } : {}), log: console.log });
  console.log(file);
  const { getLlama, LlamaChatSession } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 2, logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 256, threads: 2 });
  const seq = ctx.getSequence();
  const toks = model.tokenize('[INST] Is this review positive or negative? "A lovely film." [/INST]');
  const t0 = performance.now();
  const res = await seq.controlledEvaluate(toks.map((t, j) => (j === toks.length - 1 ? [t, { generateNext: { probabilities: true } }] : t)));
  const probs = res[toks.length - 1]?.next?.probabilities;
  const ps = probs ? [...probs.values()] : [];
  const ok = ps.length > 0 && ps.every((p) => Number.isFinite(p));
  console.log(`${toks.length} tokens evaluated in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${ps.length} probabilities, finite: ${ok}; top: ${[...(probs ?? new Map()).entries()].slice(0, 3).map(([t, p]) => `${JSON.stringify(model.detokenize([t]))} ${p.toFixed(4)}`).join(', ')}`);
  await ctx.dispose();
  const chat = new LlamaChatSession({ contextSequence: (await model.createContext({ contextSize: 256, threads: 2 })).getSequence() });
  const answer = await chat.prompt('Say positive or negative: "A lovely film."', { maxTokens: 4 });
  console.log(`chat answer (4 tokens max): ${JSON.stringify(answer)}`);
  await model.dispose();
  await llama.dispose();
  if (!ok) process.exit(1);
}
