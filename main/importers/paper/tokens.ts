/**
 * Token text and offsets for the published study's runs, which store vocabulary ids only
 * (`perturbation.tokenized_chat_until_answer`, `context_mask`).
 *
 * A tokenizer is used for a run only when it provably is the model's: for an example, re-tokenizing the
 * example text with it must reproduce the stored ids of the text span (context_mask == 1) exactly, and
 * those ids, decoded alone and inside the whole prompt (the protocol's tokenCharSpans, main/protocol/offsets.ts),
 * must give the example text back token by token. The one allowed difference is the leading-space convention: the
 * first text token decodes with the space that separated it from the prompt (SentencePiece's "▁Beautiful"
 * -> " Beautiful", Llama 3's "ĠBeautifully" -> " Beautifully"), while its offsets cover only the text's
 * own characters, as for the workbench's own runs (main/protocol/chat.ts textTokens clips the same way).
 *
 * Why a proof and not a name lookup: the paper's Mistral-7B-v0.3 and Mixtral files hold SentencePiece ids
 * that are in range for Llama 2's vocabulary but mean other pieces (v0.3 adds 768 control tokens in front;
 * Mixtral's pieces were trained separately), so "Llama 2 / Mistral share llama-spm" would give gibberish.
 *
 * Candidates: an explicit vocab-only (or full) GGUF, else the real tokenizers that node-llama-cpp ships in
 * its llama.cpp bundle, extracted by native/scripts/llama-src.sh into native/vendor/llama.cpp/models
 * (llama-spm = Llama 2's SentencePiece, llama-bpe = Llama 3's BPE), tried in an order hinted by the model name.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { loadVocabOnly } from '../../models/session';
import { tokenCharSpans, type TokenCharSpan } from '../../protocol/offsets';
import type { TokenInfo } from '../../store';
import type { PaperPerturbation, PaperRecord } from './read';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the vocab-only GGUFs of llama.cpp's bundle are extracted (native/scripts/llama-src.sh). */
export const PAPER_VOCAB_DIR = resolve(REPO_ROOT, 'native/vendor/llama.cpp/models');

/** The real tokenizers that can be the paper models' (Llama-2-13B-chat, Llama-3.1-8B, Mistral-7B-v0.3, Mixtral). */
export const PAPER_VOCAB_NAMES = ['llama-spm', 'llama-bpe'] as const;

export const vocabPath = (name: string): string => resolve(PAPER_VOCAB_DIR, `ggml-vocab-${name}.gguf`);

export interface TokenizerCandidate {
  name: string;
  path: string;
}

/** Candidates for automatic matching, most likely first for this model name (only those present on disk). */
export function paperTokenizerCandidates(model: string): TokenizerCandidate[] {
  const llama3 = /llama-?3/i.test(model);
  const names = llama3 ? ['llama-bpe', 'llama-spm'] : [...PAPER_VOCAB_NAMES];
  return names.map((name) => ({ name, path: vocabPath(name) })).filter((c) => existsSync(c.path));
}

/**
 * `--tokenizer` value -> a candidate: a path to a GGUF, or the name of a bundled vocabulary ("llama-spm").
 * Throws, naming the value, when neither exists (a wrong flag is an error, not a silent ids-only import).
 */
export function resolveTokenizerArg(value: string): TokenizerCandidate {
  const asPath = resolve(value);
  if (existsSync(asPath)) return { name: basename(asPath).replace(/^ggml-vocab-/, '').replace(/\.gguf$/, ''), path: asPath };
  if (/^[A-Za-z0-9._-]+$/.test(value) && existsSync(vocabPath(value))) return { name: value, path: vocabPath(value) };
  throw new Error(`--tokenizer ${value}: no such GGUF file, and no bundled vocabulary ggml-vocab-${value}.gguf in ${PAPER_VOCAB_DIR}`);
}

export type TokenDecode = { ok: true; tokens: TokenInfo[] } | { ok: false; reason: string };

const show = (s: string, n = 40) => JSON.stringify(s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * Proves the text span's stored ids against `text` and gives each its offsets in `text`.
 *
 * Proof: tokenizing the text as the protocol does (no BOS, no special tokens) reproduces the ids exactly,
 * either the text as it is (SentencePiece adds its own leading "▁") or with the space that preceded it in
 * the prompt (byte-level BPE keeps that space inside the first token). Offsets: the protocol's
 * tokenCharSpans over those ids, whose decoding must be the text or the space + text. Not textTokenSpans
 * itself: its round-trip check would refuse texts that llama.cpp's BPE decoder cleans up (it drops the
 * space in " ..." at the start), although their ids are proven the same way.
 */
function textSpans(model: LlamaModel, text: string, ids: readonly number[]): { spans: TokenCharSpan[]; shift: 0 | 1 } | { reason: string } {
  const reasons: string[] = [];
  for (const variant of [text, ` ${text}`]) {
    const label = variant === text ? 'text' : 'space + text';
    const again = model.tokenize(variant, false) as number[];
    const k = again.findIndex((id, i) => id !== ids[i]);
    if (k !== -1 || again.length !== ids.length) {
      reasons.push(k === -1 ? `${label} gives ${again.length} tokens for ${ids.length} stored` : `${label} gives id ${again[k]} at text token ${k}, stored ${ids[k] ?? 'none'}`);
      continue;
    }
    const { full, spans } = tokenCharSpans(model, ids as Token[], false);
    if (full === text) return { spans, shift: 0 };
    if (full === ` ${text}`) return { spans, shift: 1 };
    return { reason: `the stored ids re-tokenize from the ${label} but decode to ${show(full)}` };
  }
  return { reason: `re-tokenizing does not reproduce the stored ids (${reasons.join('; ')})` };
}

/**
 * Decodes one example's prompt with `model` and proves it against the example text. On success every
 * prompt token has its decoded text (its slice of the decoded prompt); text tokens (context_mask 1) have
 * offsets [start, end) into `text`, prompt tokens keep -1. The ids must be inside the vocabulary (checked
 * by the caller: llama.cpp aborts the process on an out-of-range id).
 */
export function decodePaperTokens(model: LlamaModel, p: PaperPerturbation, text: string): TokenDecode {
  if (p.contextMask.length !== p.tokenIds.length) return { ok: false, reason: `${p.contextMask.length} context_mask values for ${p.tokenIds.length} token ids` };
  const textIdx = p.contextMask.flatMap((m, i) => (m === 1 ? [i] : []));
  if (textIdx.length === 0) return { ok: false, reason: 'no token has context_mask 1' };
  const textIds = textIdx.map((i) => p.tokenIds[i]);
  const fromText = textSpans(model, text, textIds);
  if ('reason' in fromText) return { ok: false, reason: fromText.reason };
  const { spans: prompt } = tokenCharSpans(model, p.tokenIds as Token[], true);
  const decodedText = textIdx.map((i) => prompt[i].text).join('');
  if (decodedText !== text && decodedText !== ` ${text}`) {
    return { ok: false, reason: `the text span decodes to ${show(decodedText)} in the prompt, not the example text ${show(text)}` };
  }
  const offsets = new Map<number, { start: number; end: number }>();
  // own: where each token's own text (the characters it completes) lies in the decoding of the text alone;
  // its span may reach further back and on (a byte-fallback token spans the whole character it encodes)
  let own = 0;
  for (let k = 0; k < textIdx.length; k++) {
    const s = fromText.spans[k];
    const start = Math.max(0, s.start - fromText.shift);
    const end = Math.max(0, s.end - fromText.shift);
    const piece = prompt[textIdx[k]].text;
    const ownStart = own;
    own += s.text.length;
    if (!(piece === s.text || (k === 0 && piece === ` ${s.text}`)) || s.start > ownStart || own > s.end) {
      return { ok: false, reason: `text token ${k} (id ${textIds[k]}) decodes to ${show(piece)} in the prompt but to ${show(s.text)} in the text (span ${show(text.slice(start, end))})` };
    }
    offsets.set(textIdx[k], { start, end });
  }
  const tokens = p.tokenIds.map((id, i): TokenInfo => {
    const o = offsets.get(i);
    return { id, text: prompt[i].text, start: o ? o.start : -1, end: o ? o.end : -1, segment: o ? 'text' : 'prompt' };
  });
  return { ok: true, tokens };
}

/** Ids only, as the files have them (the import's behaviour when no tokenizer is proven). */
export function idOnlyTokens(p: PaperPerturbation): TokenInfo[] {
  return p.tokenIds.map((id, i) => ({ id, text: '', start: -1, end: -1, segment: p.contextMask[i] === 1 ? 'text' : 'prompt' }));
}

export interface PaperTokenDecoding {
  /** The tokenizer used, or null when none was proven (all examples keep ids only). */
  tokenizer: TokenizerCandidate | null;
  /** Decoded tokens by 0-based line, for the examples the tokenizer proved. */
  byLine: Map<number, TokenInfo[]>;
  /** Why an example with token ids kept ids only, by 0-based line. */
  failures: Map<number, string>;
  /** Examples that have token ids (a perturbation record). */
  withIds: number;
  /** Run-level notes ("token text not decoded: ..." or "token text decoded with ..."). */
  notes: string[];
  /** Each candidate tried and what it proved. */
  tried: Array<TokenizerCandidate & { proven: number; attempted: number; reason?: string }>;
}

/** Candidates stop being probed after this many failures with nothing proven (a wrong vocabulary fails every example). */
const PROBE_FAILURES = 8;

function maxId(records: readonly PaperRecord[]): number {
  let m = -1;
  for (const r of records) for (const id of r.perturbation?.tokenIds ?? []) if (id > m) m = id;
  return m;
}

async function tryCandidate(
  c: TokenizerCandidate,
  records: readonly PaperRecord[],
  top: number,
): Promise<{ tried: PaperTokenDecoding['tried'][number]; byLine: Map<number, TokenInfo[]>; failures: Map<number, string> }> {
  const byLine = new Map<number, TokenInfo[]>();
  const failures = new Map<number, string>();
  const fail = (reason: string) => ({ tried: { ...c, proven: 0, attempted: 0, reason }, byLine, failures });
  let model: LlamaModel;
  try {
    model = await loadVocabOnly(c.path);
  } catch (e) {
    return fail(`cannot load ${c.path}: ${(e as Error).message}`);
  }
  try {
    const size = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
    if (typeof size !== 'number') return fail('the GGUF has no tokenizer.ggml.tokens');
    if (top >= size) return fail(`token id ${top} is outside its ${size}-token vocabulary`);
    let attempted = 0;
    for (const r of records) {
      if (!r.perturbation) continue;
      if (r.perturbation.tokenIds.some((id) => !Number.isInteger(id) || id < 0)) {
        failures.set(r.line, 'a token id is not a non-negative integer');
        continue;
      }
      attempted++;
      const d = decodePaperTokens(model, r.perturbation, r.text);
      if (d.ok) byLine.set(r.line, d.tokens);
      else failures.set(r.line, d.reason);
      if (byLine.size === 0 && failures.size >= PROBE_FAILURES) break;
    }
    const firstFail = [...failures.entries()][0];
    return {
      tried: { ...c, proven: byLine.size, attempted, ...(firstFail ? { reason: `line ${firstFail[0] + 1}: ${firstFail[1]}` } : {}) },
      byLine,
      failures,
    };
  } finally {
    await model.dispose();
  }
}

/**
 * Finds the tokenizer of a paper run and decodes its examples. With `tokenizer` only that file is tried;
 * otherwise the bundled candidates in name-hinted order, stopping at the first accepted one. A tokenizer is
 * accepted when it proves at least half of the examples that have token ids (a wrong vocabulary proves none;
 * the right one can still fail an example whose text its decoder does not give back, e.g. llama.cpp's BPE
 * decoder drops spaces before "." "," "!" "?"); those examples keep ids only, each with its reason.
 */
export async function decodePaperRunTokens(
  records: readonly PaperRecord[],
  opts: { model: string; tokenizer?: TokenizerCandidate },
): Promise<PaperTokenDecoding> {
  const withIds = records.filter((r) => r.perturbation).length;
  const result: PaperTokenDecoding = { tokenizer: null, byLine: new Map(), failures: new Map(), withIds, notes: [], tried: [] };
  if (withIds === 0) {
    result.notes.push('token text not decoded: the file has no token ids (no perturbation records)');
    return result;
  }
  const candidates = opts.tokenizer ? [opts.tokenizer] : paperTokenizerCandidates(opts.model);
  if (candidates.length === 0) {
    result.notes.push(
      `token text not decoded: no tokenizer to try for ${opts.model} (no ggml-vocab-{${PAPER_VOCAB_NAMES.join(',')}}.gguf in ${PAPER_VOCAB_DIR}; bash native/scripts/llama-src.sh extracts them, or give --tokenizer <gguf>)`,
    );
    return result;
  }
  const top = maxId(records);
  for (const c of candidates) {
    const t = await tryCandidate(c, records, top);
    result.tried.push(t.tried);
    if (t.tried.proven > 0 && t.tried.proven * 2 >= withIds) {
      result.tokenizer = c;
      result.byLine = t.byLine;
      result.failures = t.failures;
      result.notes.push(`token text decoded with ${c.name} (${c.path}): ${t.tried.proven} of ${withIds} examples with token ids`);
      if (t.failures.size) result.notes.push(`${t.failures.size} of ${withIds} examples keep ids only (first: ${t.tried.reason})`);
      return result;
    }
  }
  const why = result.tried.map((t) => `${t.name}: ${t.proven ? `proved only ${t.proven} of ${t.attempted}` : 'no match'}${t.reason ? `, ${t.reason}` : ''}`);
  result.notes.push(`token text not decoded: no matching tokenizer for ${opts.model} (${why.join('; ')})`);
  return result;
}
