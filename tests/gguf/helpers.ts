// Shared helpers for the GGUF tests: temp dirs and one llama.cpp instance per test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';

export function tempDir(prefix = 'gguf-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let llama: Promise<Llama> | undefined;
export function sharedLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', maxThreads: 2, logLevel: LlamaLogLevel.error });
  return llama;
}

/** Loads a model, evaluates `tokens`, and returns the next-token distribution at the last position. */
export async function nextTokenProbs(modelPath: string, tokens?: number[]): Promise<{ probs: Map<number, number>; tokens: number[] }> {
  const l = await sharedLlama();
  const model = await l.loadModel({ modelPath });
  try {
    const ctx = await model.createContext({ threads: 2, contextSize: 64 });
    try {
      const seq = ctx.getSequence();
      const bos = model.tokens.bos;
      const toks = tokens ?? [...(bos !== null ? [bos] : []), ...model.tokenize('the good movie', false)].map(Number);
      const t = toks as Token[];
      const res = await seq.controlledEvaluate([
        ...t.slice(0, -1),
        [t[t.length - 1], { generateNext: { probabilities: true } }],
      ]);
      const probs = res[res.length - 1]?.next?.probabilities;
      if (!probs) throw new Error('no probabilities returned');
      return { probs, tokens: toks };
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}
