import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { nextTokenDistribution, nextTokenProb, type ProbReadout } from './infer';

/** The paper's filler: "_" (Llama) or the unknown token (Mistral), or an explicit token id. */
export type Filler = 'underscore' | 'unknown' | { token: number };

export function fillerToken(model: LlamaModel, filler: Filler): Token {
  if (typeof filler === 'object') return filler.token as Token;
  if (filler === 'unknown') {
    const id = (model.fileInfo.metadata as { tokenizer?: { ggml?: { unknown_token_id?: number } } }).tokenizer?.ggml?.unknown_token_id;
    if (typeof id !== 'number') throw new Error(`${model.filename ?? 'model'} declares no unknown token (tokenizer.ggml.unknown_token_id); use "underscore"`);
    return id as Token;
  }
  const t = model.tokenize('_', false, 'trimLeadingSpace');
  if (t.length !== 1) throw new Error(`"_" is not a single token in this vocabulary (${t.length} tokens)`);
  return t[0];
}

/**
 * How the answer token's probability is read: 'distribution' copies the whole next-token distribution and
 * looks the token up, exactly as classification reads the prediction's answer probability, so that masking
 * nothing gives p0 equal to it bit for bit (the default, and what the runner uses); 'answer' asks llama.cpp
 * for that one probability through a logit bias (see nextTokenProb: equal up to float32 rounding, faster on
 * tiny models with large vocabularies; kept for the benchmark).
 */
export type MaskReadout = 'answer' | 'distribution';

export function applyMask(context: readonly Token[], positions: Iterable<number>, filler: Token): Token[] {
  const masked = [...context];
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= masked.length) throw new Error(`masked position ${p} is outside the context (0..${masked.length - 1})`);
    masked[p] = filler;
  }
  return masked;
}

/**
 * Probability of `answer` as the next token after `context` with the tokens at `positions` replaced by
 * `filler`, all at once (the paper's faithfulness test). Evaluated in the canonical layout (infer.ts), so
 * the result is a function of the masked tokens alone, bit for bit, whatever the sequence held before:
 * cached chunks before the first differing token are reused, the rest is evaluated again.
 */
export async function maskedAnswerProb(
  seq: LlamaContextSequence,
  context: readonly Token[],
  positions: Iterable<number>,
  filler: Token,
  answer: Token,
  readout: MaskReadout = 'distribution',
  info?: ProbReadout,
): Promise<number> {
  const masked = applyMask(context, positions, filler);
  if (readout === 'distribution') return (await nextTokenDistribution(seq, masked)).get(answer) ?? 0;
  return nextTokenProb(seq, masked, answer, info);
}

/** The same probability from scratch: the sequence's cache is cleared first (the reference for tests and the bench). */
export async function maskedAnswerProbFull(
  seq: LlamaContextSequence,
  context: readonly Token[],
  positions: Iterable<number>,
  filler: Token,
  answer: Token,
  readout: MaskReadout = 'distribution',
): Promise<number> {
  await seq.clearHistory();
  return maskedAnswerProb(seq, context, positions, filler, answer, readout);
}

/**
 * maskedAnswerProb for several mask sets (results in the given order), on one sequence, evaluated in
 * lexicographic order of their masked token strings so that consecutive sets share the longest cached
 * prefix (nested ERASER top-k sets, leave-one-out occlusion). The same bits as single calls.
 *
 * Not offered: spreading the sets over several sequences of one context (llama.cpp decodes them in shared
 * batches). The benchmark measured it: ~1.1x on SST prompts with ~3e-3 relative deviation, and on a
 * 553-token prompt deviations of 33% from the sequential values, so batched results are not trustworthy here.
 */
export async function maskedAnswerProbs(
  seq: LlamaContextSequence,
  context: readonly Token[],
  sets: readonly (readonly number[])[],
  filler: Token,
  answer: Token,
  readout: MaskReadout = 'distribution',
): Promise<number[]> {
  const masked = sets.map((s) => applyMask(context, s, filler));
  const order = masked.map((_, i) => i).sort((a, b) => compareTokens(masked[a], masked[b]));
  const out = new Array<number>(sets.length);
  for (const i of order) out[i] = await maskedAnswerProb(seq, masked[i], [], filler, answer, readout);
  return out;
}

function compareTokens(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * A set of masked positions as a short, canonical key: sorted, duplicates dropped, runs written as ranges
 * ("" = nothing masked, "3", "3-7,9"). Keys the per-example record of masked readouts (`maskedProbs`), so
 * that exports carry every probability a faithfulness metric was computed from.
 */
export function positionsKey(positions: Iterable<number>): string {
  const s = [...new Set(positions)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j === i ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The positions of a positionsKey; an error names the key when it is not one. */
export function parsePositionsKey(key: string): number[] {
  if (key === '') return [];
  const out: number[] = [];
  for (const part of key.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`masked-positions key "${key}": "${part}" is not a position or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`masked-positions key "${key}": range ${part} runs backwards`);
    for (let p = a; p <= b; p++) out.push(p);
  }
  return out;
}
