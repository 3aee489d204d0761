// The model catalogue: instruct GGUFs suited to the workbench's tasks, each with where to get it, what it weighs,
// its licence and the published SHA-256 of that exact file. Downloads are verified against that hash
// (registry-download.ts); an entry without a published hash says so and its download needs an explicit
// confirmation.
//
// Every figure here was read from a public source, named in the entry's `sources`; none is guessed. Hugging Face
// shows a file's SHA-256 on its page ("Git LFS Details") and its exact size in the LFS pointer. Where only the
// rounded size on the page was found, `sizeBytes` is null and `approxBytes` holds that rounded figure. A hash
// belongs to one revision of a repository: a URL whose hash is known is pinned to that revision (resolve/<commit>),
// so a later re-upload under the same name cannot change what is downloaded.
import { headerEstimate } from './registry-fit';
import { SUPPORTED_ARCHITECTURES, type ModelInfo } from './registry';

export interface CatalogueEntry {
  /** Stable name the API takes (`downloadModel({ entry })`). */
  name: string;
  title: string;
  /** Who made the weights; who quantized them. */
  publisher: string;
  quantizedBy: string;
  /** GGUF `general.architecture`: decides whether the registry can run it. */
  architecture: string;
  parameters: string;
  quantization: 'Q4_K_M';
  /** The file's name once downloaded (under the data directory's models folder). */
  file: string;
  /** http(s) address of the file itself (Hugging Face resolve URL). */
  url: string;
  /** Exact size in bytes, when published; null when only a rounded figure was found. */
  sizeBytes: number | null;
  /** The size to show and to estimate memory from: exact when known, else the rounded published figure. */
  approxBytes: number | null;
  /** Published SHA-256 of this exact file (lower-case hex), or null: not found, verification unavailable. */
  sha256: string | null;
  licence: { name: string; url: string };
  contextLength: number;
  /** Small enough for a laptop (a few GB of RAM). */
  laptop: boolean;
  /**
   * Hyperparameters from the model's config.json, for the memory estimate before the file exists (Llama 3.1 8B
   * and Gemma 3 12B's checked against stored copies of their configs; the others as their model cards give them,
   * not re-checked here; they only move the estimate's KV-cache and activation terms).
   */
  hparams: { nLayer: number; nEmbd: number; nFf: number; nHead: number; nHeadKv: number; headDim: number; nVocab: number };
  /** Where sizeBytes, approxBytes and sha256 were read. */
  sources: string[];
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'qwen2.5-1.5b-instruct',
    title: 'Qwen 2.5 1.5B Instruct',
    publisher: 'Qwen (Alibaba)',
    quantizedBy: 'Qwen (official GGUF)',
    architecture: 'qwen2',
    parameters: '1.5 B',
    quantization: 'Q4_K_M',
    file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf',
    url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf',
    sizeBytes: 1_117_320_736,
    approxBytes: 1_117_320_736,
    sha256: '6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e',
    licence: { name: 'Apache 2.0', url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE' },
    contextLength: 32_768,
    laptop: true,
    hparams: { nLayer: 28, nEmbd: 1536, nFf: 8960, nHead: 12, nHeadKv: 2, headDim: 128, nVocab: 151_936 },
    sources: [
      // revision, exact size and hash pinned together by a public download script
      'a public preparation script pinning Qwen/Qwen2.5-1.5B-Instruct-GGUF@91cad51170dc346986eccefdc2dd33a9da36ead9: size 1117320736, sha256 6a1a2eb6…',
      // the same hash on a Hugging Face LFS page of a copy of the file (1.12 GB)
      'https://huggingface.co/flyingfishinwater/good_and_small_models/blob/main/qwen2.5-1.5b-instruct-q4_k_m.gguf (Git LFS Details: same SHA-256)',
    ],
  },
  {
    name: 'llama-3.1-8b-instruct',
    title: 'Llama 3.1 8B Instruct',
    publisher: 'Meta',
    quantizedBy: 'bartowski',
    architecture: 'llama',
    parameters: '8.0 B',
    quantization: 'Q4_K_M',
    file: 'Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf',
    url: 'https://huggingface.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/resolve/7cbac9881964b4c07e9d7097c4f5c2f5e132c78c/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf',
    sizeBytes: null,
    approxBytes: 4_920_000_000,
    sha256: '2a4ca64e02e7126436cfdb066dd7311f2486eb487191910d3d000fde13826a4d',
    licence: { name: 'Llama 3.1 Community License', url: 'https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/blob/main/LICENSE' },
    contextLength: 131_072,
    laptop: false,
    hparams: { nLayer: 32, nEmbd: 4096, nFf: 14_336, nHead: 32, nHeadKv: 8, headDim: 128, nVocab: 128_256 },
    sources: [
      // bartowski re-uploaded this file several times (other revisions show other hashes): the URL is pinned to this one
      'https://huggingface.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/blob/7cbac9881964b4c07e9d7097c4f5c2f5e132c78c/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf (Git LFS Details: SHA-256 2a4ca64e…, 4.92 GB)',
      'the same SHA-256 listed for lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF in a public model list',
    ],
  },
  {
    name: 'qwen2.5-7b-instruct',
    title: 'Qwen 2.5 7B Instruct',
    publisher: 'Qwen (Alibaba)',
    quantizedBy: 'bartowski',
    architecture: 'qwen2',
    parameters: '7.6 B',
    quantization: 'Q4_K_M',
    file: 'Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    url: 'https://huggingface.co/bartowski/Qwen2.5-7B-Instruct-GGUF/resolve/f4b6063c19a94c15fe9031d8afbbb9df7ec8b93f/Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    sizeBytes: 4_683_074_240,
    approxBytes: 4_683_074_240,
    sha256: '65b8fcd92af6b4fefa935c625d1ac27ea29dcb6ee14589c55a8f115ceaaa1423',
    licence: { name: 'Apache 2.0', url: 'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE' },
    contextLength: 32_768,
    laptop: false,
    hparams: { nLayer: 28, nEmbd: 3584, nFf: 18_944, nHead: 28, nHeadKv: 4, headDim: 128, nVocab: 152_064 },
    sources: [
      'https://huggingface.co/bartowski/Qwen2.5-7B-Instruct-GGUF/blob/f4b6063c19a94c15fe9031d8afbbb9df7ec8b93f/Qwen2.5-7B-Instruct-Q4_K_M.gguf (Git LFS Details: SHA-256 65b8fcd9…; blob/main shows the same)',
      'several public projects pinning this file: size 4683074240 bytes with the same SHA-256',
    ],
  },
  {
    name: 'mistral-7b-instruct-v0.3',
    title: 'Mistral 7B Instruct v0.3',
    publisher: 'Mistral AI',
    quantizedBy: 'bartowski',
    architecture: 'llama',
    parameters: '7.2 B',
    quantization: 'Q4_K_M',
    file: 'Mistral-7B-Instruct-v0.3-Q4_K_M.gguf',
    url: 'https://huggingface.co/bartowski/Mistral-7B-Instruct-v0.3-GGUF/resolve/main/Mistral-7B-Instruct-v0.3-Q4_K_M.gguf',
    sizeBytes: null,
    approxBytes: 4_370_000_000,
    // not found in any source available here: the download asks for confirmation and is not verified
    sha256: null,
    licence: { name: 'Apache 2.0', url: 'https://huggingface.co/mistralai/Mistral-7B-Instruct-v0.3' },
    contextLength: 32_768,
    laptop: false,
    hparams: { nLayer: 32, nEmbd: 4096, nFf: 14_336, nHead: 32, nHeadKv: 8, headDim: 128, nVocab: 32_768 },
    sources: ["bartowski/Mistral-7B-Instruct-v0.3-GGUF model card: Q4_K_M 4.37GB (no hash found)"],
  },
  {
    name: 'qwen3-8b',
    title: 'Qwen 3 8B',
    publisher: 'Qwen (Alibaba)',
    quantizedBy: 'Qwen (official GGUF)',
    architecture: 'qwen3',
    parameters: '8.2 B',
    quantization: 'Q4_K_M',
    file: 'Qwen3-8B-Q4_K_M.gguf',
    url: 'https://huggingface.co/Qwen/Qwen3-8B-GGUF/resolve/main/Qwen3-8B-Q4_K_M.gguf',
    sizeBytes: null,
    approxBytes: null,
    sha256: null,
    licence: { name: 'Apache 2.0', url: 'https://huggingface.co/Qwen/Qwen3-8B/blob/main/LICENSE' },
    contextLength: 40_960,
    laptop: false,
    hparams: { nLayer: 36, nEmbd: 4096, nFf: 12_288, nHead: 32, nHeadKv: 8, headDim: 128, nVocab: 151_936 },
    sources: ['Qwen/Qwen3-8B-GGUF (file name only: no size or hash found)'],
  },
  {
    name: 'gemma-3-12b-it',
    title: 'Gemma 3 12B it',
    publisher: 'Google',
    quantizedBy: 'bartowski',
    architecture: 'gemma3',
    parameters: '12 B',
    quantization: 'Q4_K_M',
    file: 'google_gemma-3-12b-it-Q4_K_M.gguf',
    url: 'https://huggingface.co/bartowski/google_gemma-3-12b-it-GGUF/resolve/main/google_gemma-3-12b-it-Q4_K_M.gguf',
    sizeBytes: null,
    approxBytes: 7_300_000_000,
    sha256: null,
    licence: { name: 'Gemma Terms of Use', url: 'https://ai.google.dev/gemma/terms' },
    contextLength: 131_072,
    laptop: false,
    hparams: { nLayer: 48, nEmbd: 3840, nFf: 15_360, nHead: 16, nHeadKv: 8, headDim: 256, nVocab: 262_208 },
    sources: ['a Hugging Face listing of gemma-3-12b-it Q4_K_M (cortexso/gemma3): 7.3 GB; no hash found for bartowski\'s file'],
  },
];

/** The registry runs this entry's architecture (registry.ts decides; the catalogue only asks). */
export function isRunnable(e: CatalogueEntry): boolean {
  return (SUPPORTED_ARCHITECTURES as readonly string[]).includes(e.architecture);
}

export interface CatalogueFit {
  /** Bytes of RAM (CPU) — or of VRAM with every layer offloaded — for the weights plus one context. */
  needBytes: number;
  contextSize: number;
  fits: boolean;
  note: string;
}

/**
 * Memory the entry needs, before the file exists: registry-fit's own header estimate (weights = file size,
 * F16 KV cache, one batch of activations) from the entry's hyperparameters. Null without a size.
 */
export function catalogueFit(e: CatalogueEntry, machine: { freeBytes: number; totalBytes: number }, contextSize = 4096): CatalogueFit | null {
  if (e.approxBytes === null) return null;
  const h = e.hparams;
  const info: Pick<ModelInfo, 'fileSize' | 'hparams' | 'vocabulary'> = {
    fileSize: e.approxBytes,
    hparams: { ...h, nExpert: 0, nExpertUsed: 0, ropeBase: null, rmsEps: null },
    vocabulary: { model: null, pre: null, size: h.nVocab, bos: null, eos: null, unk: null },
  };
  const ctx = Math.min(contextSize, e.contextLength);
  const est = headerEstimate(info as ModelInfo, ctx, 512);
  const needBytes = est.weights + est.context;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
  const fits = needBytes <= machine.totalBytes;
  const note = `needs about ${gib(needBytes)} of RAM (or of VRAM with all layers on the GPU) at a ${ctx}-token context; this machine has ${gib(machine.totalBytes)} (${gib(machine.freeBytes)} free)`;
  return { needBytes, contextSize: ctx, fits, note };
}

export function catalogueEntry(list: readonly CatalogueEntry[], name: string): CatalogueEntry | undefined {
  return list.find((e) => e.name === name);
}
