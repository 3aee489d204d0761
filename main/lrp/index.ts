// TypeScript side of the native LRP addon (native/build/rw_lrp.node and rw_lrp_generic.node, built by
// `npm run build:native`; which one a process loads is decided here, in `chooseLrpAddon`).
// The addon runs forward and LRP-backward passes on libuv's thread pool; this module validates arguments,
// turns AbortSignals into the addon's cancel flag and keeps the handle's lifetime explicit (close()).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type LrpRule = 'cp' | 'attn';
export type LrpGate = 'half' | 'detach';
/** arithmetic of the weight products: float32, or 8-bit integers on quantized weights (native/README.md) */
export type LrpPrecision = 'f32' | 'int8';
export const LRP_PRECISIONS: readonly LrpPrecision[] = ['f32', 'int8'];

export interface LrpModelInfo {
  arch: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  nVocab: number;
  nCtx: number;
  nExpert: number;
  nExpertUsed: number;
  fileSize: number;
  threads: number;
}

export interface LrpProgress {
  /** layers done so far: forward layers count 1..nLayer, backward layers nLayer+1..2*nLayer */
  done: number;
  total: number;
  phase: 'forward' | 'backward';
}

export interface AttributionOptions {
  /** the exact token ids the model sees (chat template included) */
  tokens: ArrayLike<number>;
  /** token id whose logit at the last position is explained; default: the most probable next token */
  target?: number;
  /** explain logit(target) - logit(contrast) instead */
  contrast?: number;
  /** `cp`: CP-LRP (frozen attention, norm scale, SiLU ratio); `attn`: AttnLRP (softmax rule, uniform splits) */
  rule?: LrpRule;
  /** CP-LRP only: gate x up product split 1/2-1/2 (`half`) or the gate frozen (`detach`); AttnLRP always halves */
  gate?: LrpGate;
  /**
   * Activation memory: `save` keeps every layer's activations (fastest), `recompute` keeps only each layer's input
   * and recomputes one layer at a time in the backward (about one more forward; the same relevances bit for bit),
   * `auto` (default) recomputes when saving all would take more than a quarter of the machine's memory.
   */
  activations?: 'auto' | 'save' | 'recompute';
  /**
   * Working memory this explanation may use, in bytes (default: the machine's physical memory). `auto`
   * recomputes above a quarter of it; an input that would need more than 80 % of it even then is refused
   * with the figures (tokens, GiB needed and available) before anything is allocated.
   */
  memoryLimit?: number;
  /**
   * `f32` (default): float32 products. `int8`: products with quantized weights (Q4_K, Q8_0, ...) in 8-bit
   * integers, the input quantized per block of 32 as llama.cpp does (faster; its error against float32 is
   * measured by `npm run bench -- lrp`); float weights (F32, F16, BF16) stay float32.
   */
  precision?: LrpPrecision;
  onProgress?: (p: LrpProgress) => void;
  signal?: AbortSignal;
}

export interface Attribution {
  /** relevance of each input token (sum over embedding dims of input x modified gradient) */
  relevance: Float32Array;
  /** the explained token id (resolved when no target was given) */
  target: number;
  contrast?: number;
  /** the explained logit (or logit difference) from the engine's own forward */
  value: number;
  /** log-probabilities of the next token at the last position, length nVocab */
  logProbs: Float32Array;
  timings: { forwardMs: number; backwardMs: number; totalMs: number };
  /** whether the backward recomputed layers from their inputs (see `activations`) */
  recomputed: boolean;
  /** the engine's estimate of the activation bytes it kept */
  savedBytes: number;
}

export interface ForwardResult {
  /** log-probabilities at every position, row-major [tokens.length, nVocab] */
  logProbs: Float32Array;
  nVocab: number;
  ms: number;
}

export interface OpenOptions {
  /** worker threads for one computation (keep <= physical cores) */
  threads?: number;
}

interface NativeResultExplain {
  relevance: Float32Array;
  logProbs: Float32Array;
  target: number;
  value: number;
  forwardMs: number;
  backwardMs: number;
  checkpointed: boolean;
  savedBytes: number;
}

interface NativeAddon {
  open(path: string, threads: number): object;
  info(h: object): LrpModelInfo;
  close(h: object): void;
  forward(h: object, tokens: Int32Array, progress?: (d: number, t: number, p: string) => void, cancel?: Int32Array): Promise<{ logProbs: Float32Array; ms: number }>;
  explain(
    h: object,
    tokens: Int32Array,
    progress: ((d: number, t: number, p: string) => void) | undefined,
    cancel: Int32Array,
    opts: { target: number; contrast: number; rule: number; gate: number; checkpoint: number; memoryLimit: number; precision: number },
  ): Promise<NativeResultExplain>;
  version(): { ggml: string; commit: string; headersVersion: string; builtAgainstCommit: string };
  checkGgml(builtVersion: string, builtCommit: string, libVersion: string, libCommit: string): string | null;
  /** whether this CPU can run the avx2 build (AVX2 + FMA + F16C); asked of the portable build */
  cpuHasAvx2(): boolean;
  /** the vector lanes this build was compiled for */
  kernels: LrpKernels;
}

/** The kernels of a build: x86-64 AVX2/FMA/F16C, ARM64 NEON, or plain C++ (any other CPU). */
export type LrpKernels = 'avx2' | 'neon' | 'scalar';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The AVX2/FMA/F16C build (x86-64 only). */
export const addonPath = path.join(repoRoot, 'native/build/rw_lrp.node');
/** The portable build, for the platform's baseline: plain C++ on x86-64, NEON on ARM64; built everywhere. */
export const genericAddonPath = path.join(repoRoot, 'native/build/rw_lrp_generic.node');

/** `RW_LRP_KERNELS`: `generic` forces the portable build; unset or `auto` lets the CPU decide. */
export const LRP_KERNELS_ENV = 'RW_LRP_KERNELS';

/**
 * Which build a process loads, and why: the AVX2 one when it was built, the CPU has AVX2, FMA and F16C (asked of
 * the portable build, native/src/platform.cpp) and RW_LRP_KERNELS does not say `generic`; else the portable one.
 * Never refuses a CPU; throws only when the needed build is missing or the variable has another value.
 */
export function chooseLrpAddon(
  env: string | undefined,
  has: { fast: boolean; generic: boolean },
  cpuHasAvx2: () => boolean,
): { path: 'fast' | 'generic'; reason: string } {
  const mode = env === undefined || env === '' ? 'auto' : env;
  if (mode !== 'auto' && mode !== 'generic') {
    throw new Error(`${LRP_KERNELS_ENV}=${env}: expected 'generic' (the portable kernels) or 'auto'`);
  }
  if (!has.generic) {
    throw new Error(`LRP addon not built: ${genericAddonPath} is missing (run \`npm run build:native\`)`);
  }
  if (mode === 'generic') return { path: 'generic', reason: `${LRP_KERNELS_ENV}=generic` };
  if (!has.fast) return { path: 'generic', reason: 'no AVX2 build on this platform' };
  if (!cpuHasAvx2()) return { path: 'generic', reason: 'this CPU lacks AVX2, FMA or F16C' };
  return { path: 'fast', reason: 'CPU has AVX2, FMA and F16C' };
}

let addon: NativeAddon | undefined;

/**
 * Windows finds an addon's DLLs on PATH (there is no rpath): the installed @node-llama-cpp/win-<arch> package's
 * bins directory, which holds ggml-base.dll, in its unpacked form in a packaged app (electron-builder.yml).
 */
function addGgmlToPath(): void {
  const plat = `win-${process.arch}`;
  const bins = path.join(repoRoot, 'node_modules/@node-llama-cpp', plat, 'bins', plat).replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  const cur = process.env.PATH ?? '';
  if (!cur.split(path.delimiter).includes(bins)) process.env.PATH = `${bins}${path.delimiter}${cur}`;
}
let chosenReason = '';

/** Loads the addon once (see chooseLrpAddon); throws with the build command when it is missing or built against another ggml. */
export function loadLrpAddon(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  if (process.platform === 'win32') addGgmlToPath();
  let generic: NativeAddon | undefined;
  const getGeneric = () => (generic ??= require(genericAddonPath) as NativeAddon);
  const choice = chooseLrpAddon(process.env[LRP_KERNELS_ENV], { fast: existsSync(addonPath), generic: existsSync(genericAddonPath) },
    () => getGeneric().cpuHasAvx2());
  addon = choice.path === 'fast' ? (require(addonPath) as NativeAddon) : getGeneric();
  chosenReason = choice.reason;
  return addon;
}

/** The kernels of the loaded build and why it was chosen (shown by `lrp --json` and `bench -- lrp`). */
export function lrpKernels(): { kernels: LrpKernels; reason: string } {
  const a = loadLrpAddon();
  return { kernels: a.kernels, reason: chosenReason };
}

/** ggml version and commit of the loaded library and of the headers the addon was compiled against. */
export function lrpVersion(): ReturnType<NativeAddon['version']> {
  return loadLrpAddon().version();
}

/**
 * The addon's load-time check (native/src/version_check.h) on given values: null when the library's ggml
 * version and commit are those the addon was compiled against, else the message the load would fail with
 * (error code ERR_LRP_GGML_MISMATCH).
 */
export function ggmlMismatch(built: { version: string; commit: string }, lib: { version: string; commit: string }): string | null {
  return loadLrpAddon().checkGgml(built.version, built.commit, lib.version, lib.commit);
}

function toTokens(tokens: ArrayLike<number>, what: string): Int32Array {
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new RangeError(`${what}: token at position ${i} is not a valid id (${t})`);
    out[i] = t;
  }
  return out;
}

function checkId(v: number | undefined, name: string, nVocab: number): number {
  if (v === undefined) return -1;
  if (!Number.isInteger(v) || v < 0 || v >= nVocab) throw new RangeError(`${name} token id ${v} is out of range (vocabulary size ${nVocab})`);
  return v;
}

export class LrpModel {
  readonly path: string;
  readonly info: LrpModelInfo;
  private handle: object | undefined;
  private readonly lib: NativeAddon;

  private constructor(lib: NativeAddon, handle: object, file: string) {
    this.lib = lib;
    this.handle = handle;
    this.path = file;
    this.info = lib.info(handle);
  }

  /** Maps the GGUF file and checks architecture, tensor types and shapes; throws on anything unsupported. */
  static open(file: string, opts: OpenOptions = {}): LrpModel {
    const lib = loadLrpAddon();
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    return new LrpModel(lib, lib.open(file, threads), file);
  }

  private h(): object {
    if (!this.handle) throw new Error(`LRP model ${this.path} is closed`);
    return this.handle;
  }

  /** Log-probabilities at every position (the engine's own forward). */
  async forward(tokens: ArrayLike<number>, opts: { signal?: AbortSignal } = {}): Promise<ForwardResult> {
    const cancel = new Int32Array(1);
    const onAbort = () => { cancel[0] = 1; };
    opts.signal?.throwIfAborted();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await this.lib.forward(this.h(), toTokens(tokens, 'forward'), undefined, cancel);
      return { logProbs: r.logProbs, nVocab: this.info.nVocab, ms: r.ms };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** LRP relevance of every input token for the target logit (or a contrast) at the last position. */
  async attribute(o: AttributionOptions): Promise<Attribution> {
    const rule = o.rule ?? 'cp';
    const gate = o.gate ?? 'half';
    if (rule !== 'cp' && rule !== 'attn') throw new RangeError(`rule must be 'cp' or 'attn', got ${String(rule)}`);
    if (gate !== 'half' && gate !== 'detach') throw new RangeError(`gate must be 'half' or 'detach', got ${String(gate)}`);
    const activations = o.activations ?? 'auto';
    const checkpoint = { auto: -1, save: 0, recompute: 1 }[activations as string];
    if (checkpoint === undefined) {
      throw new RangeError(`activations must be 'auto', 'save' or 'recompute', got ${String(activations)}`);
    }
    const memoryLimit = o.memoryLimit ?? 0;
    if (typeof memoryLimit !== 'number' || !Number.isFinite(memoryLimit) || memoryLimit < 0) {
      throw new RangeError(`memoryLimit must be a positive number of bytes, got ${String(o.memoryLimit)}`);
    }
    const precision = o.precision ?? 'f32';
    if (!LRP_PRECISIONS.includes(precision)) {
      throw new RangeError(`precision must be 'f32' or 'int8', got ${String(o.precision)}`);
    }
    const tokens = toTokens(o.tokens, 'attribute');
    const target = checkId(o.target, 'target', this.info.nVocab);
    const contrast = checkId(o.contrast, 'contrast', this.info.nVocab);
    const cancel = new Int32Array(1);
    const onAbort = () => { cancel[0] = 1; };
    o.signal?.throwIfAborted();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const progress = o.onProgress
      ? (done: number, total: number, phase: string) => o.onProgress!({ done, total, phase: phase as LrpProgress['phase'] })
      : undefined;
    const t0 = performance.now();
    try {
      const r = await this.lib.explain(this.h(), tokens, progress, cancel, {
        target,
        contrast,
        rule: rule === 'attn' ? 1 : 0,
        gate: gate === 'detach' ? 1 : 0,
        checkpoint,
        memoryLimit,
        precision: precision === 'int8' ? 1 : 0,
      });
      return {
        relevance: r.relevance,
        target: r.target,
        ...(contrast >= 0 ? { contrast } : {}),
        value: r.value,
        logProbs: r.logProbs,
        timings: { forwardMs: r.forwardMs, backwardMs: r.backwardMs, totalMs: performance.now() - t0 },
        recomputed: r.checkpointed,
        savedBytes: r.savedBytes,
      };
    } catch (e) {
      if ((e as { code?: string }).code === 'ABORT_ERR' && o.signal?.aborted) throw o.signal.reason ?? e;
      throw e;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Releases the mapping and all buffers (after any computation still running finishes). Idempotent. */
  close(): void {
    if (!this.handle) return;
    this.lib.close(this.handle);
    this.handle = undefined;
  }
}

export function openLrpModel(file: string, opts: OpenOptions = {}): LrpModel {
  return LrpModel.open(file, opts);
}
