import type { LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { LlamaGrammarEvaluationState, TokenBias } from 'node-llama-cpp';

/** Sampling for the paper's generation mode. The paper sampled with the models' defaults and seeds 28, 79, 96. */
export interface SamplingOptions {
  seed: number;
  temperature: number;
  topK?: number;
  topP?: number;
  minP?: number;
}

export const PAPER_SEEDS = [28, 79, 96] as const;
/** Hugging Face generation defaults of the paper's chat models (temperature 0.6, top-p 0.9). */
export const defaultSampling: SamplingOptions = { seed: 28, temperature: 0.6, topP: 0.9 };

/**
 * Same input, same bits. llama.cpp's arithmetic for a position depends on how the evaluation was laid out:
 * a token evaluated alone (a batch of one, as in generation or when only the last token is new) takes
 * other matrix kernels than one inside a batch, and on GPUs every batch size can. Reusing whatever prefix
 * the cache held therefore made a probability depend on what was evaluated before it: the same masked input
 * read twice differed by up to 5.7e-3 relative, p0 differed from the prediction's answer probability, and a
 * run resumed after a kill differed from an uninterrupted one.
 *
 * So every evaluation on a protocol sequence uses one canonical layout, a function of the tokens alone:
 * chunks of CHUNK tokens aligned at absolute positions 0, CHUNK, 2*CHUNK, ..., each evaluated as one batch;
 * the last chunk (it holds the token whose next-token logits are read, and may be shorter) is evaluated
 * every time. A cached chunk before it is reused only when it was itself evaluated as such a whole chunk
 * with the same tokens up to its end, so the reused keys and values are bit for bit those a clean
 * evaluation would compute: reuse saves time and never changes a result.
 * Every evaluation of a protocol sequence must go through this module (which keeps the record below).
 */
export const CHUNK = 32;
/** The tokens at the start of a sequence's cache that were evaluated as whole canonical chunks. */
const canonical = new WeakMap<LlamaContextSequence, Token[]>();

function chunkOf(seq: LlamaContextSequence): number {
  return Math.max(1, Math.min(CHUNK, seq.context.batchSize));
}

/**
 * Bring the sequence to the whole canonical chunks of `tokens` before the chunk holding the last token
 * (reusing cached chunks that are canonical and equal). Returns that last chunk: the caller evaluates it
 * in one batch, with the output it needs on its last token.
 */
export async function reusePrefix(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<Token[]> {
  if (tokens.length === 0) throw new Error('nothing to evaluate');
  if (tokens.length > seq.contextSize) throw new Error(`${tokens.length} tokens do not fit the context (${seq.contextSize})`);
  const c = chunkOf(seq);
  const last = Math.floor((tokens.length - 1) / c) * c;
  const rec = canonical.get(seq) ?? [];
  const cached = seq.contextTokens;
  let k = 0;
  while (k < rec.length && k < cached.length && k < last && rec[k] === tokens[k] && cached[k] === tokens[k]) k++;
  const keep = Math.floor(k / c) * c;
  // what follows `keep` is evaluated again; until that has happened, only `keep` tokens are canonical
  canonical.set(seq, tokens.slice(0, keep) as Token[]);
  if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
  for (let a = keep; a < last; a += c) await seq.controlledEvaluate(tokens.slice(a, a + c) as Token[]);
  canonical.set(seq, tokens.slice(0, last) as Token[]);
  return tokens.slice(last) as Token[];
}

/**
 * The model's next-token distribution after `tokens` (plain softmax of the logits: temperature 0 makes
 * llama.cpp's sampler chain greedy-only, which leaves the full vocabulary untouched).
 */
export async function nextTokenDistribution(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<Map<Token, number>> {
  return distributionAfter(seq, await reusePrefix(seq, tokens));
}

/**
 * Logit bias target: with bias L on the token, the rest of the vocabulary weighs x = R e^-L against it, where
 * R = (1 - p) / p. Aiming at x = e^-2.5 keeps the token the argmax for moderate shifts of R and leaves x large
 * enough to read from a float32 confidence (x >= 1e-2: relative error ~1e-5 against the 5e-3 we promise).
 */
const BIAS_MARGIN = 2.5;
const MIN_X = 1e-2;
const MAX_TRIES = 6;

/** Which readout answered the last nextTokenProb call, and how many evaluations of the last chunk it took. */
export interface ProbReadout {
  method: 'bias' | 'distribution';
  tries: number;
}

/**
 * The plain-softmax probability of one `token` as the next token after `tokens`, without the full
 * distribution. Copying 32k (token, probability) pairs from llama.cpp into a JS Map costs ~0.5 us per
 * vocabulary entry (as much as evaluating ~40 tokens of a 20M model); llama.cpp's `confidence` output is a
 * single number, the softmax probability of the selected token, computed over the whole vocabulary in C++.
 * So: bias `token` by a logit L so that greedy selection picks it, read its (biased) confidence c, and undo
 * the bias exactly: with x = 1/c - 1 (the other tokens' weight relative to the biased token),
 * p = 1 / (1 + x e^L). When the token is not selected (L too small) or x is too small to read (L too large),
 * the last chunk is evaluated again with a corrected L; after MAX_TRIES, the full distribution.
 * Equal to nextTokenDistribution(seq, tokens).get(token) up to float32 rounding (tests check 5e-3 relative),
 * but not bit for bit, so the runner reads every probability from the distribution (one rule); this
 * readout is kept for the benchmark. Deterministic: the first L is always the same (an earlier version
 * started from the last call's odds, which made the result depend on what was read before), and every try
 * evaluates the same last chunk after the same canonical prefix.
 */
export async function nextTokenProb(seq: LlamaContextSequence, tokens: readonly Token[], token: Token, readout?: ProbReadout): Promise<number> {
  const model = seq.model;
  const rest = await reusePrefix(seq, tokens);
  if (model.isEogToken(token)) {
    // TokenBias ignores end-of-generation tokens
    const p = await distributionAfter(seq, rest);
    if (readout) Object.assign(readout, { method: 'distribution', tries: 1 });
    return p.get(token) ?? 0;
  }
  let logR = 0;
  for (let tries = 1; tries <= MAX_TRIES; tries++) {
    // evaluate the last chunk (again, with another bias): always the same batch, as in the first try
    if (tries > 1) await seq.eraseContextTokenRanges([{ start: seq.nextTokenIndex - rest.length, end: seq.nextTokenIndex }]);
    const L = logR + BIAS_MARGIN;
    const bias = new TokenBias(model.tokenizer).set(token, { logit: L });
    const items = rest.map((t, i) =>
      i === rest.length - 1 ? ([t, { generateNext: { token: true, confidence: true, options: { temperature: 0, tokenBias: bias } } }] as const) : t,
    );
    const out = await seq.controlledEvaluate(items as EvalItems);
    const next = out[rest.length - 1]?.next;
    if (next?.confidence === undefined) throw new Error('llama.cpp returned no confidence');
    if (next.token !== token) {
      // the token's logit + L is still below the maximum, so log R > L
      logR = L + 8;
      continue;
    }
    const x = 1 / next.confidence - 1;
    if (x < MIN_X) {
      logR = x > 0 ? Math.log(x) + L : L - 20;
      continue;
    }
    const lr = Math.log(x) + L;
    if (readout) Object.assign(readout, { method: 'bias', tries });
    return 1 / (1 + Math.exp(lr));
  }
  await seq.eraseContextTokenRanges([{ start: seq.nextTokenIndex - rest.length, end: seq.nextTokenIndex }]);
  const p = await distributionAfter(seq, rest);
  if (readout) Object.assign(readout, { method: 'distribution', tries: MAX_TRIES + 1 });
  return p.get(token) ?? 0;
}

type EvalItems = Parameters<LlamaContextSequence['controlledEvaluate']>[0];

/** The distribution after evaluating `rest` (the last chunk, see reusePrefix) in one batch. */
async function distributionAfter(seq: LlamaContextSequence, rest: readonly Token[]): Promise<Map<Token, number>> {
  const items = rest.map((t, i) => (i === rest.length - 1 ? ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : t));
  const out = await seq.controlledEvaluate(items as EvalItems);
  const probs = out[rest.length - 1]?.next.probabilities;
  if (!probs) throw new Error('llama.cpp returned no probabilities');
  return probs;
}

export interface GenerateOptions {
  sampling: SamplingOptions;
  maxNewTokens: number;
  grammar?: LlamaGrammar;
  signal?: AbortSignal;
  /** Checked after each token; true ends generation with stop 'complete' (e.g. a JSON value is finished). */
  isComplete?: (tokens: readonly Token[]) => boolean;
}

export interface Generated {
  tokens: Token[];
  /** 'eog': end-of-generation token; 'grammar': the grammar admits nothing more; 'length': hit maxNewTokens. */
  stop: 'eog' | 'grammar' | 'length' | 'complete';
}

/** Sample up to maxNewTokens after `prompt` (seeded, reproducible); the stop token is not included. */
export async function generate(seq: LlamaContextSequence, model: LlamaModel, prompt: readonly Token[], opts: GenerateOptions): Promise<Generated> {
  if (prompt.length + opts.maxNewTokens > seq.contextSize) {
    throw new Error(`prompt (${prompt.length} tokens) + ${opts.maxNewTokens} new tokens exceed the context (${seq.contextSize})`);
  }
  const rest = await reusePrefix(seq, prompt);
  const grammarState = opts.grammar ? new LlamaGrammarEvaluationState({ model, grammar: opts.grammar }) : undefined;
  const s = opts.sampling;
  const out: Token[] = [];
  let stop: Generated['stop'] = 'grammar';
  const it = seq.evaluate(rest, {
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    minP: s.minP,
    seed: s.seed,
    grammarEvaluationState: grammarState,
    yieldEogToken: true,
  });
  for await (const token of it) {
    opts.signal?.throwIfAborted();
    if (model.isEogToken(token)) {
      stop = 'eog';
      break;
    }
    out.push(token);
    if (opts.isComplete?.(out)) {
      stop = 'complete';
      break;
    }
    if (out.length >= opts.maxNewTokens) {
      stop = 'length';
      break;
    }
  }
  return { tokens: out, stop };
}
