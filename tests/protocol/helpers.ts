import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, type Llama, type LlamaContext, type Token } from 'node-llama-cpp';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const shared = path.resolve(repoRoot, '../shared');
export const storiesPath = path.join(shared, 'models/stories260K.gguf');
export const vocabPath = (name: 'llama-bpe' | 'llama-spm' | 'qwen2') => path.join(repoRoot, `native/vendor/llama.cpp/models/ggml-vocab-${name}.gguf`);
export const paperResponses = (model: string, seed = 28) =>
  path.join(shared, `data/paper-responses/sst/${model}/oracle/${seed}/${model === 'mixtral' ? 'mixtral_rationales_quant' : `${model}_rationales`}_seed_${seed}_sparsity_oracle.jsonl`);

let llama: Promise<Llama> | null = null;
export function testLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', maxThreads: 2 });
  return llama;
}

/**
 * Reference for "equals a from-scratch computation": a new sequence of `context`, all tokens evaluated by a
 * different API than the protocol's (evaluateWithMetadata, greedy), returning the next-token distribution.
 */
export async function freshDistribution(context: LlamaContext, tokens: readonly Token[]): Promise<Map<Token, number>> {
  const seq = context.getSequence();
  try {
    const it = seq.evaluateWithMetadata([...tokens], { probabilities: true }, { temperature: 0 });
    const first = await it.next();
    await it.return();
    if (first.done) throw new Error('no output');
    return first.value.probabilities;
  } finally {
    await seq.dispose();
  }
}
