import type { LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { LlamaGrammarEvaluationState } from 'node-llama-cpp';

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
  const rest = await reusePrefix(seq, tokens);
  const items = rest.map((t, i) =>
    i === rest.length - 1 ? ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const) : t,
  );
  const out = await seq.controlledEvaluate(items as Parameters<LlamaContextSequence['controlledEvaluate']>[0]);
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
