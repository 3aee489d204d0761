// Models for the LRP tests, made with the project's generator (main/gguf/generate.ts) and stories260K's
// tokenizer (so llama.cpp can load them and token ids < 512 are valid). Models the generator deliberately
// cannot make (an unsupported architecture or weight type) are a generated model rewritten with the project's
// reader and writer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateModelSync, type GenerateModelOptions } from '../../main/gguf/generate';
import { readGguf, readTensorBytes } from '../../main/gguf/reader';
import { byteSize } from '../../main/gguf/quant/index';
import { writeGguf } from '../../main/gguf/writer';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const stories = path.resolve(repoRoot, '../shared/models/stories260K.gguf');

/** Generator options without the path; unset sizes take the LRP tests' tiny defaults below. */
export type TinyOptions = Omit<GenerateModelOptions, 'path'>;

// 2 layers, d 64, 4 heads sharing 2 KV heads (GQA), FFN 96, context 64, stories260K's 512-token vocabulary.
const TINY: TinyOptions = { nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, contextLength: 64, vocab: { path: stories } };

/** A temp directory whose models are written with tiny defaults; call cleanup() in afterAll. */
export function modelDir(prefix: string) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    /** Writes a generated model and returns its path. */
    model(o: TinyOptions, name = `m${n++}`): string {
      const file = path.join(dir, `${name}.gguf`);
      generateModelSync({ ...TINY, ...o, path: file });
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Copies a GGUF, renaming the architecture (every `<arch>.` key follows) and/or declaring tensors as another
 * ggml type with zero bytes of that type's size: for the engine's refusals.
 */
export function rewriteGguf(src: string, dst: string, change: { arch?: string; tensorTypes?: Record<string, number> }): string {
  const f = readGguf(src);
  const from = f.metadata.get('general.architecture') as string;
  const to = change.arch ?? from;
  const kv = f.kv.map((e) => {
    if (e.key === 'general.architecture') return { ...e, value: to };
    return e.key.startsWith(`${from}.`) ? { ...e, key: `${to}.${e.key.slice(from.length + 1)}` } : e;
  });
  const tensors = f.tensors.map((t) => {
    const type = change.tensorTypes?.[t.name];
    if (type === undefined) return { name: t.name, shape: t.shape, type: t.type, data: () => readTensorBytes(f, t.name) };
    return { name: t.name, shape: t.shape, type, data: new Uint8Array(byteSize(type, t.nElements)) };
  });
  writeGguf(dst, { kv, tensors, alignment: f.alignment });
  return dst;
}
