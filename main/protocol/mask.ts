import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { nextTokenDistribution } from './infer';

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
 * Probability of `answer` as the next token after `context` with the tokens at `positions` replaced by
 * `filler`, all at once (the paper's faithfulness test). The cached state up to the first masked position
 * is reused: only the tokens from there on are evaluated again.
 */
export async function maskedAnswerProb(
  seq: LlamaContextSequence,
  context: readonly Token[],
  positions: Iterable<number>,
  filler: Token,
  answer: Token,
): Promise<number> {
  const masked = [...context];
  for (const p of positions) {
    if (p < 0 || p >= masked.length) throw new Error(`masked position ${p} is outside the context (0..${masked.length - 1})`);
    masked[p] = filler;
  }
  const dist = await nextTokenDistribution(seq, masked);
  return dist.get(answer) ?? 0;
}

/** The same probability from scratch: the sequence's cache is cleared first (the reference for tests and the bench). */
export async function maskedAnswerProbFull(
  seq: LlamaContextSequence,
  context: readonly Token[],
  positions: Iterable<number>,
  filler: Token,
  answer: Token,
): Promise<number> {
  await seq.clearHistory();
  return maskedAnswerProb(seq, context, positions, filler, answer);
}
