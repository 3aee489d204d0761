/**
 * One model opened for a study's examples, and the per-example processor built on it: the one place both
 * the local runner (runner/study.ts) and a queue worker (queue/worker.ts) get their pipeline from, so an
 * example computed on another machine goes through exactly the code a local run uses.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaModel, type Token } from 'node-llama-cpp';
import type { StudyConfig } from '../config/study-schema';
import { inspectHeader } from '../models/registry';
import { gpuPlan, llamaLoadOptions, sessionLlama } from '../models/session';
import { openLrpModel, type LrpModel } from '../lrp';
import { fillerToken, type Indicator, type ProtocolRuntime } from '../protocol';
import { makeProcessor } from './example';
import { runContextSize } from './fit';
import type { ProcessExample } from './loop';

let llamaPromise: Promise<Llama> | null = null;
let llamaThreads = 0;
function llamaFor(threads: number): Promise<Llama> {
  if (!llamaPromise || llamaThreads !== threads) {
    llamaThreads = threads;
    llamaPromise = getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  }
  return llamaPromise;
}

export type ModelEntry = StudyConfig['models'][number];

export interface ModelSession {
  rt: ProtocolRuntime;
  lrp: LrpModel | null;
  filler: Token;
  dispose(): Promise<void>;
}

/**
 * Loads `file` as the study's model entry `m` asks (GPU offload, filler), with a context of the size the
 * caller asks (default: the study's limits) and the LRP engine when the study asks for an LRP method. Throws when the model cannot
 * be loaded (the caller words the failure for its runs).
 */
export async function openModelSession(
  file: string,
  m: ModelEntry,
  config: StudyConfig,
  threads: number,
  template: string,
  /** The context's size for the loaded model; default: the study's limits (runContextSize). Results do not depend on it. */
  o: { contextSize?: (model: LlamaModel) => number } = {},
): Promise<ModelSession> {
  // the file may have changed since it was registered: a malformed header aborts llama.cpp, so check it again
  inspectHeader(file);
  // GPU offload as the study's model entry asks (0 or absent: the CPU build, as always)
  const plan = gpuPlan(m.gpuLayers);
  const llama = plan.gpu ? await sessionLlama(plan.gpu, threads) : await llamaFor(threads);
  // llamaLoadOptions: no mmap (llama.cpp's repacked copy plus a resident mapping held the weights twice)
  const model: LlamaModel = await llama.loadModel({ modelPath: file, ...llamaLoadOptions, ...plan.load });
  let context: LlamaContext | undefined;
  let lrp: LrpModel | null = null;
  try {
    context = await model.createContext({ contextSize: o.contextSize?.(model) ?? runContextSize(model.trainContextSize, config.limits), threads, sequences: 1 });
    const sequence = context.getSequence();
    const filler = fillerToken(model, m.filler === 'unk' ? 'unknown' : m.filler === '_' ? 'underscore' : { token: model.tokenize(m.filler, false, 'trimLeadingSpace')[0] });
    if (config.explanations.some((e) => e.method.startsWith('lrp'))) lrp = openLrpModel(file, { threads });
    const ctx = context;
    return {
      rt: { llama: model.llama, model, sequence, template },
      lrp,
      filler: filler as Token,
      async dispose() {
        lrp?.close();
        await ctx.dispose();
        await model.dispose();
      },
    };
  } catch (e) {
    lrp?.close();
    await context?.dispose();
    await model.dispose();
    throw e;
  }
}

/** The per-example pipeline (runner/example.ts) of one (model, seed) run of the study on an open model. */
export function processorFor(session: ModelSession, config: StudyConfig, m: ModelEntry, seed: number, indicators: Indicator[] | undefined): ProcessExample {
  return makeProcessor({ rt: session.rt, lrp: session.lrp, filler: session.filler, config, seed, mode: m.mode, indicators });
}
