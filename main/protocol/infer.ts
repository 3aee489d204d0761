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
 * Bring the sequence to `tokens` minus the last one, reusing the longest cached prefix, so the caller
 * can evaluate from there. At least the last token is always left to evaluate (its logits are needed).
 * Returns the tokens still to be evaluated.
 */
export async function reusePrefix(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<Token[]> {
  if (tokens.length === 0) throw new Error('nothing to evaluate');
  if (tokens.length > seq.contextSize) throw new Error(`${tokens.length} tokens do not fit the context (${seq.contextSize})`);
  await seq.adaptStateToTokens(tokens.slice(0, -1) as Token[], false);
  return tokens.slice(seq.nextTokenIndex) as Token[];
}

/**
 * The model's next-token distribution after `tokens` (plain softmax of the logits: temperature 0 makes
 * llama.cpp's sampler chain greedy-only, which leaves the full vocabulary untouched).
 */
export async function nextTokenDistribution(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<Map<Token, number>> {
  return distributionAfter(seq, await reusePrefix(seq, tokens));
}

type EvalItems = Parameters<LlamaContextSequence['controlledEvaluate']>[0];

/**
 * Logit bias target: with bias L on the token, the rest of the vocabulary weighs x = R e^-L against it, where
 * R = (1 - p) / p. Aiming at x = e^-2.5 keeps the token the argmax for moderate shifts of R and leaves x large
 * enough to read from a float32 confidence (x >= 1e-2: relative error ~1e-5 against the 5e-3 we promise).
 */
const BIAS_MARGIN = 2.5;
const MIN_X = 1e-2;
const MAX_TRIES = 6;
/** Last measured log R per sequence and token: successive masked evaluations of one example land close. */
const lastLogOdds = new WeakMap<LlamaContextSequence, Map<Token, number>>();

/** Which readout answered the last nextTokenProb call, and how many evaluations of the last token it took. */
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
 * the last token alone is evaluated again with a corrected L; after MAX_TRIES, the full distribution.
 * Equal to nextTokenDistribution(seq, tokens).get(token) up to float32 rounding (tests check 5e-3 relative).
 */
export async function nextTokenProb(seq: LlamaContextSequence, tokens: readonly Token[], token: Token, readout?: ProbReadout): Promise<number> {
  const model = seq.model;
  const rest = await reusePrefix(seq, tokens);
  const last = rest[rest.length - 1];
  if (model.isEogToken(token)) {
    // TokenBias ignores end-of-generation tokens
    const p = await distributionAfter(seq, rest);
    if (readout) Object.assign(readout, { method: 'distribution', tries: 1 });
    return p.get(token) ?? 0;
  }
  let memo = lastLogOdds.get(seq);
  if (!memo) lastLogOdds.set(seq, (memo = new Map()));
  let logR = memo.get(token) ?? 0;
  let items: Token[] = rest;
  for (let tries = 1; tries <= MAX_TRIES; tries++) {
    if (tries > 1) {
      // evaluate only the last token again, with another bias
      await seq.eraseContextTokenRanges([{ start: seq.nextTokenIndex - 1, end: seq.nextTokenIndex }]);
      items = [last];
    }
    const L = logR + BIAS_MARGIN;
    const bias = new TokenBias(model.tokenizer).set(token, { logit: L });
    const evalItems = items.map((t, i) =>
      i === items.length - 1 ? ([t, { generateNext: { token: true, confidence: true, options: { temperature: 0, tokenBias: bias } } }] as const) : t,
    );
    const out = await seq.controlledEvaluate(evalItems as EvalItems);
    const next = out[items.length - 1]?.next;
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
    memo.set(token, lr);
    if (readout) Object.assign(readout, { method: 'bias', tries });
    return 1 / (1 + Math.exp(lr));
  }
  await seq.eraseContextTokenRanges([{ start: seq.nextTokenIndex - 1, end: seq.nextTokenIndex }]);
  const p = await distributionAfter(seq, [last]);
  if (readout) Object.assign(readout, { method: 'distribution', tries: MAX_TRIES + 1 });
  return p.get(token) ?? 0;
}

async function distributionAfter(seq: LlamaContextSequence, rest: readonly Token[]): Promise<Map<Token, number>> {
  const items = rest.map((t, i) =>
    i === rest.length - 1 ? ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : t,
  );
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
