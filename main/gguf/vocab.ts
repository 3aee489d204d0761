// Vocabularies for generated models: a small synthetic SentencePiece byte-fallback vocabulary, or the
// tokenizer of a real vocab-only GGUF copied key for key (so tests run the real tokenizer).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGguf } from './reader';
import { GgufValueType, isGgufArray, type GgufKv } from './types';
import { kv } from './writer';
import type { ChatTemplateName } from './templates';

export type RealVocabName = 'llama-bpe' | 'llama-spm' | 'qwen2';
export type VocabSource = 'synthetic' | RealVocabName | 'mistral-v3-layout' | { path: string };

export interface BuiltVocab {
  kind: 'synthetic' | RealVocabName | 'mistral-v3-layout' | 'file';
  kv: GgufKv[];
  size: number;
  bos?: number;
  eos?: number;
  defaultTemplate: ChatTemplateName | null;
}

// llama.cpp token types (llama_token_type / gguf TokenType).
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Path of a real vocab-only GGUF shipped with the pinned llama.cpp source (native/vendor/llama.cpp/models). */
export function realVocabPath(name: RealVocabName): string {
  const p = resolve(REPO_ROOT, 'native/vendor/llama.cpp/models', `ggml-vocab-${name}.gguf`);
  if (!existsSync(p)) {
    throw new Error(`${p}: vocab-only GGUF missing; run \`bash native/scripts/llama-src.sh\` to extract llama.cpp's source`);
  }
  return p;
}

/** Words whose pieces the synthetic vocabulary holds whole (plus every prefix, so SPM merges reach them). */
export const SYNTHETIC_WORDS = [
  'the', 'a', 'an', 'is', 'was', 'it', 'this', 'that', 'and', 'or', 'not', 'no', 'yes', 'of', 'to', 'in', 'on',
  'for', 'with', 'I', 'you', 'he', 'she', 'we', 'they', 'good', 'bad', 'great', 'terrible', 'movie', 'film',
  'love', 'hate', 'like', 'very', 'positive', 'negative', 'neutral', 'answer', 'label', 'text', 'sentiment',
  'true', 'false', 'claim', 'Answer', 'Text', 'The', 'This', 'It',
];

export interface SyntheticVocabOptions {
  /** Extra words (without the leading ▁) added whole, with their prefixes. */
  extraWords?: string[];
}

/**
 * A Llama-2-style SentencePiece vocabulary: <unk>, <s>, </s>, the 256 <0xXX> byte tokens, single characters
 * and word pieces. Scores grow with piece length so the SPM merge prefers whole words; anything else falls
 * back to bytes.
 */
export function syntheticVocab(opts: SyntheticVocabOptions = {}): BuiltVocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  const scores: number[] = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
    scores.push(0);
  }
  const seen = new Set(tokens);
  const add = (piece: string): void => {
    if (seen.has(piece)) return;
    seen.add(piece);
    tokens.push(piece);
    types.push(TokenType.NORMAL);
    // Longer pieces win merges; ties broken by insertion order (earlier = higher score).
    scores.push(Math.fround([...piece].length * 10 - tokens.length / 1000));
  };
  const chars = '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"()-';
  for (const ch of chars) add(ch);
  for (const w of [...SYNTHETIC_WORDS, ...(opts.extraWords ?? [])]) {
    const piece = [...`▁${w}`];
    for (let n = 2; n <= piece.length; n++) add(piece.slice(0, n).join(''));
  }
  return {
    kind: 'synthetic',
    size: tokens.length,
    bos: 1,
    eos: 2,
    defaultTemplate: 'llama2',
    kv: [
      kv.str('tokenizer.ggml.model', 'llama'),
      kv.str('tokenizer.ggml.pre', 'default'),
      kv.arr('tokenizer.ggml.tokens', { itemType: GgufValueType.STRING, items: tokens }),
      kv.arr('tokenizer.ggml.scores', { itemType: GgufValueType.FLOAT32, items: Float32Array.from(scores) }),
      kv.arr('tokenizer.ggml.token_type', { itemType: GgufValueType.INT32, items: Int32Array.from(types) }),
      kv.u32('tokenizer.ggml.bos_token_id', 1),
      kv.u32('tokenizer.ggml.eos_token_id', 2),
      kv.u32('tokenizer.ggml.unknown_token_id', 0),
      kv.bool('tokenizer.ggml.add_bos_token', true),
      kv.bool('tokenizer.ggml.add_eos_token', false),
    ],
  };
}

const DEFAULT_TEMPLATE: Record<RealVocabName, ChatTemplateName> = {
  'llama-bpe': 'llama3',
  'llama-spm': 'llama2',
  qwen2: 'chatml',
};

/** Copies every tokenizer.* key of a (vocab-only or full) GGUF. */
export function copiedVocab(source: RealVocabName | { path: string }): BuiltVocab {
  const path = typeof source === 'string' ? realVocabPath(source) : source.path;
  const file = readGguf(path, { checkTensorData: false });
  const entries = file.kv.filter((e) => e.key.startsWith('tokenizer.'));
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (!isGgufArray(tokens)) throw new Error(`${path}: no tokenizer.ggml.tokens array`);
  const num = (k: string): number | undefined => {
    const v = file.metadata.get(k);
    return typeof v === 'number' ? v : undefined;
  };
  return {
    kind: typeof source === 'string' ? source : 'file',
    kv: entries,
    size: tokens.items.length,
    bos: num('tokenizer.ggml.bos_token_id'),
    eos: num('tokenizer.ggml.eos_token_id'),
    defaultTemplate: typeof source === 'string' ? DEFAULT_TEMPLATE[source] : null,
  };
}

export function buildVocab(source: VocabSource, synthetic: SyntheticVocabOptions = {}): BuiltVocab {
  if (source === 'mistral-v3-layout') return mistralV3LayoutVocab();
  return source === 'synthetic' ? syntheticVocab(synthetic) : copiedVocab(source);
}

/**
 * Mistral 7B v0.3's vocabulary layout, 32768 tokens: <unk> <s> </s>, then its 768 control tokens ([INST] = 3,
 * [/INST] = 4, [TOOL_CALLS], [AVAILABLE_TOOLS], [/AVAILABLE_TOOLS], [TOOL_RESULTS], [/TOOL_RESULTS],
 * [control_8] .. [control_768]), then a 32000-token SentencePiece vocabulary from its byte tokens on. Mistral's own
 * pieces are not available offline: Llama 2's (llama-spm) stand in, so ids, size and control tokens are v0.3's,
 * the word pieces are not.
 */
export function mistralV3LayoutVocab(): BuiltVocab {
  const base = copiedVocab('llama-spm');
  const control = ['[INST]', '[/INST]', '[TOOL_CALLS]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]', '[TOOL_RESULTS]', '[/TOOL_RESULTS]'];
  for (let i = 8; i <= 768; i++) control.push(`[control_${i}]`);
  const splice = (e: GgufKv): GgufKv => {
    const v = e.value;
    if (!isGgufArray(v)) return e;
    if (e.key === 'tokenizer.ggml.tokens') {
      const items = v.items as string[];
      return { ...e, value: { itemType: v.itemType, items: [...items.slice(0, 3), ...control, ...items.slice(3)] } };
    }
    if (e.key === 'tokenizer.ggml.scores') {
      const items = v.items as Float32Array;
      return { ...e, value: { itemType: v.itemType, items: Float32Array.from([...items.slice(0, 3), ...control.map(() => 0), ...items.slice(3)]) } };
    }
    if (e.key === 'tokenizer.ggml.token_type') {
      const items = v.items as Int32Array;
      return { ...e, value: { itemType: v.itemType, items: Int32Array.from([...items.slice(0, 3), ...control.map(() => TokenType.CONTROL), ...items.slice(3)]) } };
    }
    return e;
  };
  return { ...base, kind: 'mistral-v3-layout', kv: base.kv.map(splice), size: base.size + control.length, defaultTemplate: 'llama2' };
}
