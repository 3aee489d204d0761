/**
 * Checks that a GGUF model's header describes a model llama.cpp and the LRP engine can load without
 * crashing: hyperparameters in range and consistent with each other, every tensor the architecture
 * needs present with the shape the hyperparameters imply, and every tensor's data exactly where its type
 * and shape put it. llama.cpp does not check all of this itself: a `head_count` of 0 or a `head_count_kv`
 * that does not divide `head_count` ends in a GGML_ASSERT that aborts the whole process. So every model is
 * checked here first (inspect, register, and again before predict/run/lrp load it), and all problems are
 * reported at once, each naming the field or tensor and its value.
 *
 * Covers the architectures the workbench runs (`llama`, with experts for Mixtral, and `qwen2`); tensor
 * names and shapes follow llama.cpp's loader (src/llama-model.cpp, LLM_ARCH_LLAMA / LLM_ARCH_QWEN2).
 */
import { TYPE_LAYOUT, ggmlTypeName } from './quant/types';
import { GgufValueType, isGgufArray, type GgufFile, type GgufValue } from './types';

/** The hyperparameters a valid header yields (used by the shape checks; callers may show them). */
export interface ModelHparams {
  nLayer: number;
  nEmbd: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  headDimK: number;
  headDimV: number;
  nExpert: number;
  nExpertUsed: number;
  nVocab: number;
  contextLength: number;
}

const INTEGER_TYPES: readonly number[] = [
  GgufValueType.UINT8, GgufValueType.INT8, GgufValueType.UINT16, GgufValueType.INT16, GgufValueType.UINT32,
  GgufValueType.INT32, GgufValueType.UINT64, GgufValueType.INT64,
];
const FLOAT_TYPES: readonly number[] = [GgufValueType.FLOAT32, GgufValueType.FLOAT64];

// llama.cpp's own limits (src/llama-hparams.h LLAMA_MAX_LAYERS / LLAMA_MAX_EXPERTS): past them it asserts.
const MAX_LAYERS = 512;
const MAX_EXPERTS = 1024;
// Far above any published model's context, below what would make llama.cpp allocate absurd buffers.
const MAX_CONTEXT = 1 << 24;
// A token id stored as uint32 0xFFFFFFFF (or int32 -1) means "no such token" in llama.cpp.
const NO_TOKEN = 0xffffffff;
// How many individually listed problems of one kind before the rest are counted.
const LIST_LIMIT = 12;

const show = (v: GgufValue): string => {
  if (isGgufArray(v)) return `[${Array.from(v.items as ArrayLike<unknown>).slice(0, 8).map(String).join(', ')}${v.items.length > 8 ? ', ...' : ''}]`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
};
const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Reads and checks the metadata fields; appends a problem per bad field. */
class Fields {
  constructor(private readonly f: GgufFile, readonly problems: string[]) {}

  private typeOf(key: string): number | undefined {
    return this.f.kv.find((k) => k.key === key)?.type;
  }

  /** An integer field in [min, max]; undefined (with a problem when required) when absent or bad. */
  int(key: string, o: { required: boolean; min: number; max?: number }): number | undefined {
    const v = this.f.metadata.get(key);
    if (v === undefined) {
      if (o.required) this.problems.push(`${key} is missing`);
      return undefined;
    }
    const type = this.typeOf(key);
    if (type === undefined || !INTEGER_TYPES.includes(type)) {
      this.problems.push(`${key} = ${show(v)}: must be an integer, not ${isGgufArray(v) ? 'an array' : typeof v === 'number' ? 'a float' : `a ${typeof v}`}`);
      return undefined;
    }
    return this.range(key, Number(v), o);
  }

  /** An integer per layer: a scalar, or an array with one value per layer (llama.cpp allows both). */
  perLayer(key: string, nLayer: number | undefined, o: { required: boolean; min: number; max?: number }): number[] | undefined {
    const v = this.f.metadata.get(key);
    if (!isGgufArray(v)) {
      const n = this.int(key, o);
      return n === undefined ? undefined : new Array<number>(nLayer ?? 1).fill(n);
    }
    if (!INTEGER_TYPES.includes(v.itemType)) {
      this.problems.push(`${key} = ${show(v)}: must be integers`);
      return undefined;
    }
    const items = Array.from(v.items as ArrayLike<number | bigint>, Number);
    if (nLayer !== undefined && items.length !== nLayer) {
      this.problems.push(`${key} has ${items.length} per-layer values, block_count is ${nLayer}`);
      return undefined;
    }
    const bad = items.findIndex((x) => x < o.min || (o.max !== undefined && x > o.max));
    if (bad >= 0) {
      this.problems.push(`${key}[${bad}] = ${items[bad]}: must be ${o.max !== undefined ? `${o.min}..${o.max}` : `at least ${o.min}`}`);
      return undefined;
    }
    return items;
  }

  /** A positive finite float field, when present. */
  positiveFloat(key: string): void {
    const v = this.f.metadata.get(key);
    if (v === undefined) return;
    const type = this.typeOf(key);
    if (type === undefined || !FLOAT_TYPES.includes(type)) {
      this.problems.push(`${key} = ${show(v)}: must be a floating-point number`);
      return;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) this.problems.push(`${key} = ${show(v)}: must be a positive finite number`);
  }

  private range(key: string, n: number, o: { min: number; max?: number }): number | undefined {
    if (n < o.min || (o.max !== undefined && n > o.max)) {
      this.problems.push(`${key} = ${n}: must be ${o.max !== undefined ? `${o.min}..${o.max}` : `at least ${o.min}`}`);
      return undefined;
    }
    return n;
  }
}

/**
 * Problems with the hyperparameters of architecture `arch`; the hyperparameters themselves when they are
 * complete and consistent (the tensor checks need them).
 */
function checkHparams(f: GgufFile, arch: string, problems: string[]): ModelHparams | undefined {
  const k = (s: string) => `${arch}.${s}`;
  const fields = new Fields(f, problems);
  const before = problems.length;
  const contextLength = fields.int(k('context_length'), { required: true, min: 1, max: MAX_CONTEXT });
  const nEmbd = fields.int(k('embedding_length'), { required: true, min: 1 });
  const nLayer = fields.int(k('block_count'), { required: true, min: 1, max: MAX_LAYERS });
  const nFfs = fields.perLayer(k('feed_forward_length'), nLayer, { required: true, min: 1 });
  const heads = fields.perLayer(k('attention.head_count'), nLayer, { required: true, min: 1 });
  const kvKey = k('attention.head_count_kv');
  const kvHeads = f.metadata.has(kvKey) ? fields.perLayer(kvKey, nLayer, { required: true, min: 1 }) : heads;
  const keyLength = fields.int(k('attention.key_length'), { required: false, min: 1 });
  const valueLength = fields.int(k('attention.value_length'), { required: false, min: 1 });
  const ropeDims = fields.int(k('rope.dimension_count'), { required: false, min: 1 });
  const nExpert = fields.int(k('expert_count'), { required: false, min: 0, max: MAX_EXPERTS }) ?? 0;
  const nExpertUsed = fields.int(k('expert_used_count'), { required: false, min: 0, max: MAX_EXPERTS }) ?? 0;
  fields.positiveFloat(k('attention.layer_norm_rms_epsilon'));
  fields.positiveFloat(k('rope.freq_base'));

  // The workbench's architectures use the same head counts and feed-forward width in every layer.
  const uniform = (key: string, xs: number[] | undefined): number | undefined => {
    if (!xs || xs.length === 0) return undefined;
    if (xs.some((x) => x !== xs[0])) {
      problems.push(`${key} = ${shapeText(xs)}: differs between layers, which ${arch} does not support`);
      return undefined;
    }
    return xs[0];
  };
  const nHead = uniform(k('attention.head_count'), heads);
  const nHeadKv = uniform(kvKey, kvHeads);
  const nFf = uniform(k('feed_forward_length'), nFfs);
  if (nHead !== undefined && nHeadKv !== undefined) {
    if (nHeadKv > nHead) problems.push(`${kvKey} = ${nHeadKv}: more than ${k('attention.head_count')} = ${nHead}`);
    else if (nHead % nHeadKv !== 0) problems.push(`${kvKey} = ${nHeadKv}: does not divide ${k('attention.head_count')} = ${nHead}`);
  }
  let headDimK = keyLength;
  let headDimV = valueLength;
  if (nEmbd !== undefined && nHead !== undefined && (headDimK === undefined || headDimV === undefined)) {
    if (nEmbd % nHead !== 0) {
      problems.push(`${k('embedding_length')} = ${nEmbd}: not divisible by ${k('attention.head_count')} = ${nHead} (and no ${k('attention.key_length')} gives the head size)`);
    } else {
      headDimK ??= nEmbd / nHead;
      headDimV ??= nEmbd / nHead;
    }
  }
  if (ropeDims !== undefined && headDimK !== undefined) {
    if (ropeDims > headDimK) problems.push(`${k('rope.dimension_count')} = ${ropeDims}: more than the head size ${headDimK}`);
    else if (ropeDims % 2 !== 0) problems.push(`${k('rope.dimension_count')} = ${ropeDims}: must be even`);
  }
  if (nExpert > 0 && arch !== 'llama') problems.push(`${k('expert_count')} = ${nExpert}: experts are supported for llama (Mixtral) only`);
  if (nExpert > 0 && (nExpertUsed < 1 || nExpertUsed > nExpert)) {
    problems.push(`${k('expert_used_count')} = ${nExpertUsed}: must be 1..${k('expert_count')} (${nExpert})`);
  }
  if (nExpert === 0 && nExpertUsed > 0) problems.push(`${k('expert_used_count')} = ${nExpertUsed}: but ${k('expert_count')} is 0`);

  const nVocab = checkVocabulary(f, problems);
  if (problems.length > before) return undefined;
  return {
    nLayer: nLayer!, nEmbd: nEmbd!, nFf: nFf!, nHead: nHead!, nHeadKv: nHeadKv!, headDimK: headDimK!, headDimV: headDimV!,
    nExpert, nExpertUsed, nVocab: nVocab!, contextLength: contextLength!,
  };
}

function checkVocabulary(f: GgufFile, problems: string[]): number | undefined {
  const tokens = f.metadata.get('tokenizer.ggml.tokens');
  if (tokens === undefined) {
    problems.push('tokenizer.ggml.tokens is missing (the model has no vocabulary)');
    return undefined;
  }
  if (!isGgufArray(tokens) || tokens.itemType !== GgufValueType.STRING) {
    problems.push('tokenizer.ggml.tokens: must be an array of strings');
    return undefined;
  }
  const nVocab = tokens.items.length;
  if (nVocab === 0) {
    problems.push('tokenizer.ggml.tokens is empty');
    return undefined;
  }
  for (const key of ['scores', 'token_type']) {
    const v = f.metadata.get(`tokenizer.ggml.${key}`);
    if (isGgufArray(v) && v.items.length !== nVocab) {
      problems.push(`tokenizer.ggml.${key} has ${v.items.length} entries, tokenizer.ggml.tokens has ${nVocab}`);
    }
  }
  for (const key of ['bos_token_id', 'eos_token_id', 'unknown_token_id', 'padding_token_id', 'seperator_token_id', 'eot_token_id']) {
    const v = f.metadata.get(`tokenizer.ggml.${key}`);
    if (typeof v !== 'number' && typeof v !== 'bigint') continue;
    const id = Number(v);
    if (id === NO_TOKEN || id === -1) continue;
    if (id < 0 || id >= nVocab) problems.push(`tokenizer.ggml.${key} = ${id}: not a token id (the vocabulary has ${nVocab} tokens)`);
  }
  return nVocab;
}

interface Expected {
  shape: number[];
  required: boolean;
  /** How the shape follows from the hyperparameters (for the message). */
  why: string;
}

/** The tensors llama.cpp's loader creates for the architecture, with their shapes (ggml order). */
function expectedTensors(arch: string, h: ModelHparams): Map<string, Expected> {
  const m = new Map<string, Expected>();
  const add = (name: string, shape: number[], why: string, required = true) => m.set(name, { shape, required, why });
  const qDim = h.nHead * h.headDimK;
  const kDim = h.nHeadKv * h.headDimK;
  const vDim = h.nHeadKv * h.headDimV;
  const oDim = h.nHead * h.headDimV;
  add('token_embd.weight', [h.nEmbd, h.nVocab], 'embedding_length x vocabulary size');
  add('output_norm.weight', [h.nEmbd], 'embedding_length');
  // Absent output: tied to token_embd (llama.cpp falls back to it).
  add('output.weight', [h.nEmbd, h.nVocab], 'embedding_length x vocabulary size', false);
  add('rope_freqs.weight', [h.headDimK / 2], 'head size / 2', false);
  const q = `embedding_length x head_count x head size (${h.nHead} x ${h.headDimK})`;
  const kv = `embedding_length x head_count_kv x head size (${h.nHeadKv} x ${h.headDimK})`;
  for (let i = 0; i < h.nLayer; i++) {
    const p = `blk.${i}.`;
    add(`${p}attn_norm.weight`, [h.nEmbd], 'embedding_length');
    add(`${p}attn_q.weight`, [h.nEmbd, qDim], q);
    add(`${p}attn_k.weight`, [h.nEmbd, kDim], kv);
    add(`${p}attn_v.weight`, [h.nEmbd, vDim], kv);
    add(`${p}attn_output.weight`, [oDim, h.nEmbd], 'head_count x head size x embedding_length');
    const biases = arch === 'qwen2';
    add(`${p}attn_q.bias`, [qDim], 'head_count x head size', biases);
    add(`${p}attn_k.bias`, [kDim], 'head_count_kv x head size', biases);
    add(`${p}attn_v.bias`, [vDim], 'head_count_kv x head size', biases);
    add(`${p}attn_output.bias`, [h.nEmbd], 'embedding_length', false);
    add(`${p}ffn_norm.weight`, [h.nEmbd], 'embedding_length');
    if (h.nExpert > 0) {
      const e = `(${h.nExpert} experts)`;
      add(`${p}ffn_gate_inp.weight`, [h.nEmbd, h.nExpert], `embedding_length x expert_count`);
      add(`${p}ffn_gate_exps.weight`, [h.nEmbd, h.nFf, h.nExpert], `embedding_length x feed_forward_length x expert_count ${e}`);
      add(`${p}ffn_down_exps.weight`, [h.nFf, h.nEmbd, h.nExpert], `feed_forward_length x embedding_length x expert_count ${e}`);
      add(`${p}ffn_up_exps.weight`, [h.nEmbd, h.nFf, h.nExpert], `embedding_length x feed_forward_length x expert_count ${e}`);
    } else {
      add(`${p}ffn_gate.weight`, [h.nEmbd, h.nFf], 'embedding_length x feed_forward_length');
      add(`${p}ffn_down.weight`, [h.nFf, h.nEmbd], 'feed_forward_length x embedding_length');
      add(`${p}ffn_up.weight`, [h.nEmbd, h.nFf], 'embedding_length x feed_forward_length');
    }
  }
  return m;
}

const sameShape = (a: readonly number[], b: readonly number[]) => {
  // ggml drops trailing 1s: [n] and [n, 1] are the same tensor.
  const trim = (s: readonly number[]) => {
    const out = [...s];
    while (out.length > 1 && out[out.length - 1] === 1) out.pop();
    return out;
  };
  const x = trim(a);
  const y = trim(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** Compresses "blocks 5, 6, ..., 999" into ranges. */
function ranges(ns: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    out.push(i === j ? `${ns[i]}` : `${ns[i]}..${ns[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

function capped(items: string[]): string[] {
  if (items.length <= LIST_LIMIT) return items;
  return [...items.slice(0, LIST_LIMIT), `... and ${items.length - LIST_LIMIT} more`];
}

function checkTensors(f: GgufFile, arch: string, h: ModelHparams, problems: string[]): void {
  const expected = expectedTensors(arch, h);
  const present = new Map(f.tensors.map((t) => [t.name, t]));
  // Whole blocks missing (block_count larger than the file's layers) are one problem, not thousands.
  const blockOf = (name: string) => /^blk\.(\d+)\./.exec(name)?.[1];
  const requiredPerBlock = new Map<number, string[]>();
  const missing: string[] = [];
  for (const [name, e] of expected) {
    if (!e.required || present.has(name)) continue;
    const b = blockOf(name);
    if (b !== undefined) requiredPerBlock.set(Number(b), [...(requiredPerBlock.get(Number(b)) ?? []), name]);
    else missing.push(name);
  }
  const blocksInFile = new Set(f.tensors.map((t) => blockOf(t.name)).filter((b): b is string => b !== undefined).map(Number));
  const wholeBlocks: number[] = [];
  for (const [b, names] of [...requiredPerBlock].sort((x, y) => x[0] - y[0])) {
    if (!blocksInFile.has(b)) wholeBlocks.push(b);
    else missing.push(...names);
  }
  if (wholeBlocks.length) {
    const have = [...blocksInFile].sort((x, y) => x - y);
    problems.push(`${arch}.block_count = ${h.nLayer}, but the file has no tensors for block${wholeBlocks.length > 1 ? 's' : ''} ${ranges(wholeBlocks)} (it has block${have.length === 1 ? '' : 's'} ${have.length ? ranges(have) : 'none'})`);
  }
  problems.push(...capped(missing.map((n) => `tensor "${n}" is missing`)));
  const beyond = [...blocksInFile].filter((b) => b >= h.nLayer).sort((x, y) => x - y);
  if (beyond.length) problems.push(`${arch}.block_count = ${h.nLayer}, but the file has tensors for block${beyond.length > 1 ? 's' : ''} ${ranges(beyond)}`);

  const wrong: string[] = [];
  for (const t of f.tensors) {
    const e = expected.get(t.name);
    if (!e || sameShape(t.shape, e.shape)) continue;
    wrong.push(`tensor "${t.name}": shape ${shapeText(t.shape)}, expected ${shapeText(e.shape)} (${e.why})`);
  }
  problems.push(...capped(wrong));
}

/**
 * Every tensor's data must start where the previous one's ends (padded to the alignment), as llama.cpp's
 * GGUF loader requires: a tensor whose type or shape was changed without its data no longer fits.
 */
function checkDataLayout(f: GgufFile, problems: string[]): void {
  const out: string[] = [];
  let expected = 0;
  let prev: (typeof f.tensors)[number] | undefined;
  for (const t of f.tensors) {
    if (t.offset !== expected) {
      out.push(
        prev
          ? `tensor "${t.name}": data starts at offset ${t.offset}, but "${prev.name}" before it (${ggmlTypeName(prev.type)} ${shapeText(prev.shape)}, ${prev.nBytes} bytes) ends at ${expected}: a tensor's type or shape does not match its data`
          : `tensor "${t.name}": data starts at offset ${t.offset}, expected 0 (the first tensor)`,
      );
    }
    const layout = TYPE_LAYOUT[t.type];
    const bytes = layout ? t.nBytes : 0;
    expected = Math.ceil((t.offset + bytes) / f.alignment) * f.alignment;
    prev = t;
  }
  problems.push(...capped(out));
}

export interface ModelValidation {
  problems: string[];
  /** The hyperparameters, when they are valid (tensor shapes may still be wrong). */
  hparams?: ModelHparams;
}

/**
 * All problems that would stop `arch` (a supported architecture) from loading, or crash llama.cpp while
 * loading or evaluating. Empty when the model is sound.
 */
export function validateModel(f: GgufFile, arch: string): ModelValidation {
  const problems: string[] = [];
  checkDataLayout(f, problems);
  const hparams = checkHparams(f, arch, problems);
  if (hparams) checkTensors(f, arch, hparams, problems);
  return { problems, ...(hparams ? { hparams } : {}) };
}
