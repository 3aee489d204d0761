import { getLlama, Llama, LlamaLogLevel, type LlamaContext, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import { inspectHeader } from './registry';
import { checkThreads, physicalCoreCount } from './session-threads';

/**
 * How many of a model's layers go to the GPU for prediction, generation and masked evaluation (a study's
 * `models[].gpuLayers`): 'auto' = as many as fit in free VRAM (node-llama-cpp decides), a number = that many
 * (at most the model's), 0 = none (CPU only, the default). Without a GPU every choice runs on the CPU. The LRP
 * engine (native/) always runs on the CPU.
 */
export type GpuLayers = 'auto' | number;

/**
 * The Llama instance and loadModel options for a gpuLayers choice: 0 loads no GPU binding at all (the CPU
 * build, as before offload existed); anything else asks node-llama-cpp for its GPU build ('auto': CUDA, Vulkan
 * or Metal when this machine has one, else the CPU build, so a CPU-only machine falls back cleanly).
 */
export function gpuPlan(gpuLayers: GpuLayers | undefined): { gpu: false | 'auto'; load: { gpuLayers?: GpuLayers } } {
  if (gpuLayers === undefined || gpuLayers === 0) return { gpu: false, load: {} };
  return { gpu: 'auto', load: { gpuLayers } };
}

/** Settings the session reads (from the app settings or CLI flags). */
export interface SessionSettings {
  /** false = CPU only; 'auto' = let node-llama-cpp pick CUDA/Vulkan/Metal when its prebuilt binary has one. */
  gpu: false | 'auto';
  /** Layers offloaded when `gpu` is 'auto' (default: node-llama-cpp's 'auto'). */
  gpuLayers?: GpuLayers;
  /** Threads for evaluation; default: physical cores (never node-llama-cpp's own default). */
  threads?: number;
  /** KV-cache size in tokens; prompts that do not fit are skipped with a reason by the protocol. */
  contextSize: number;
  /** Release the model this long after the last use (ms). 0 = never by timer. */
  idleReleaseMs: number;
}

export const defaultSessionSettings: SessionSettings = { gpu: false, contextSize: 4096, idleReleaseMs: 60_000 };

/** What a protocol step needs: the loaded model and one evaluation sequence. */
export interface LoadedModel {
  path: string;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
}

/**
 * How llama.cpp loads a model's weights for inference (studies, predict, the app's session): read into memory,
 * not mmapped. On CPUs with AVX2 llama.cpp repacks Q4_K (and other) weights into its own interleaved layout
 * (ggml-cpu's CPU_REPACK buffer, an anonymous copy of every matrix); with mmap the file's pages it read to do
 * so stay mapped and resident beside that copy, so a 3.8 GB Q4_K 7B model held 7.2 GB after loading (measured:
 * 3.5 GiB anonymous + 3.5 GiB of the file mapping; bench/study-parts/7b.ts). Read instead of mapped, the process holds
 * the repacked copy only. The LRP engine maps the file itself (it needs the file's own layout). node-llama-cpp
 * does not expose llama.cpp's switch for repacking (use_extra_bufts). Same bytes either way, so the same results.
 */
export const llamaLoadOptions = { useMmap: false } as const;

const llamaByGpu = new Map<string, Promise<Llama>>();

// Loading a vocabulary-only GGUF, node-llama-cpp first simulates a full load to estimate memory; llama.cpp then
// logs "missing tensor 'token_embd.weight'" and "failed to load model" at error level although the vocabulary
// loads fine. Users saw those two lines on every import and tokenization. They are dropped while a vocabulary-only
// load runs; every other message goes to node-llama-cpp's own console logger as before.
let vocabLoadsInFlight = 0;
const VOCAB_ONLY_NOISE = /missing tensor 'token_embd\.weight'|llama_model_load_from_file_impl: failed to load model/;
function workbenchLogger(level: LlamaLogLevel, message: string): void {
  if (vocabLoadsInFlight > 0 && VOCAB_ONLY_NOISE.test(message)) return;
  Llama.defaultConsoleLogger(level, message);
}

/** A model's vocabulary and chat template only (no weights), for tokenization and prompt rendering. */
export async function loadVocabOnly(modelPath: string): Promise<LlamaModel> {
  const llama = await sessionLlama(false, 2);
  vocabLoadsInFlight++;
  try {
    return await llama.loadModel({ modelPath, vocabOnly: true });
  } finally {
    vocabLoadsInFlight--;
  }
}

/** One shared Llama instance per GPU setting; build 'never' makes a missing binary an error, not a compile. */
export function sessionLlama(gpu: false | 'auto', threads: number): Promise<Llama> {
  const key = `${gpu}:${threads}`;
  let p = llamaByGpu.get(key);
  if (!p) {
    p = getLlama({ gpu, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error, logger: workbenchLogger });
    llamaByGpu.set(key, p);
  }
  return p;
}

/**
 * One loaded model at a time. `use()` serialises callers (a single sequence is not re-entrant), loads the
 * requested file (disposing any other), and arms an idle timer that frees the model's memory.
 */
export class ModelSession {
  readonly threads: number;
  private loaded: LoadedModel | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(readonly settings: SessionSettings) {
    this.threads = settings.threads !== undefined ? checkThreads(settings.threads, 'threads') : physicalCoreCount();
  }

  get loadedPath(): string | null {
    return this.loaded?.path ?? null;
  }

  /** Run `fn` with `modelPath` loaded. Rejects with the signal's reason if aborted before or during loading. */
  use<T>(modelPath: string, fn: (m: LoadedModel) => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const run = async (): Promise<T> => {
      this.clearIdleTimer();
      opts.signal?.throwIfAborted();
      const m = await this.load(modelPath, opts.signal);
      try {
        return await fn(m);
      } finally {
        this.armIdleTimer();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Free the loaded model now (waits for the running `use`). */
  async release(): Promise<void> {
    const run = async () => {
      this.clearIdleTimer();
      await this.unload();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    await result;
  }

  private async load(modelPath: string, signal?: AbortSignal): Promise<LoadedModel> {
    if (this.loaded?.path === modelPath && !this.loaded.model.disposed) return this.loaded;
    await this.unload();
    // A malformed header can abort llama.cpp (GGML_ASSERT) and the whole process with it: refuse it first.
    inspectHeader(modelPath);
    const llama = await sessionLlama(this.settings.gpu, this.threads);
    const model = await llama.loadModel({ modelPath, loadSignal: signal, ...llamaLoadOptions, ...(this.settings.gpu && this.settings.gpuLayers !== undefined ? { gpuLayers: this.settings.gpuLayers } : {}) });
    try {
      const context = await model.createContext({
        contextSize: Math.min(this.settings.contextSize, model.trainContextSize),
        threads: this.threads,
        createSignal: signal,
      });
      this.loaded = { path: modelPath, llama, model, context, sequence: context.getSequence() };
      return this.loaded;
    } catch (e) {
      await model.dispose();
      throw e;
    }
  }

  private async unload(): Promise<void> {
    const m = this.loaded;
    this.loaded = null;
    if (!m) return;
    await m.context.dispose();
    await m.model.dispose();
  }

  private armIdleTimer(): void {
    this.clearIdleTimer();
    if (this.settings.idleReleaseMs <= 0) return;
    this.idleTimer = setTimeout(() => void this.release(), this.settings.idleReleaseMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
