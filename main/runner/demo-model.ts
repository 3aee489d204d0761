/**
 * The demo model: a tiny llama-architecture GGUF generated deterministically (main/gguf) on first use
 * and cached under .cache/demo-model/ (git-ignored). Its weights are random: the demo exercises the
 * whole pipeline in seconds on any machine, it does not classify sentiment well.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { generateModel, type GenerateModelOptions } from '../gguf/generate';
import { REPO_ROOT } from '../studies/builtins';

/** Options of the demo model; changing them changes the cached file's name. */
export const DEMO_MODEL_OPTIONS: Omit<GenerateModelOptions, 'path'> = {
  arch: 'llama',
  seed: 20241003,
  nLayer: 2,
  nEmbd: 64,
  nHead: 4,
  nHeadKv: 2,
  nFf: 160,
  contextLength: 2048,
  vocab: 'synthetic',
  // whole words of the demo texts and prompts, so tokens look like words in the report
  syntheticWords: [
    'positive', 'negative', 'positiv', 'negativ', 'positiva', 'negativa', 'review', 'film', 'movie', 'yes', 'no',
    'evidence', 'overtime', 'shifts', 'hours', 'workers', 'beaten', 'water', 'wonderful', 'boring', 'charming',
  ],
  name: 'rw-demo',
};

export function demoModelDir(): string {
  return process.env.RW_DEMO_MODEL_DIR ?? join(REPO_ROOT, '.cache', 'demo-model');
}

const optionsKey = () => createHash('sha256').update(JSON.stringify(DEMO_MODEL_OPTIONS)).digest('hex').slice(0, 12);

/** Path of the demo model, generating it if absent (atomically: written to a temp name, then renamed). */
export async function ensureDemoModel(dir = demoModelDir()): Promise<string> {
  const file = join(dir, `rw-demo-${optionsKey()}.gguf`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await generateModel({ ...DEMO_MODEL_OPTIONS, path: tmp });
  renameSync(tmp, file);
  return file;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
