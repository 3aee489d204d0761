// Model registry on generated GGUF files and a real SQLite store: inspection figures, refusals with
// reasons, registration (idempotent by content, optional copy), fit estimate, offline download fail-fast,
// and the `models` CLI command.
import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/index';
import { generateModelSync } from '../../main/gguf/generate';
import { GgmlType } from '../../main/gguf/quant/types';
import { kv, writeGguf } from '../../main/gguf/writer';
import { downloadModel, estimateFit, inspectModel, registerModel, ModelRefusedError } from '../../main/models/registry';
import { headerEstimate } from '../../main/models/registry-fit';
import { openStore } from '../../main/store/index';
import { tempDir } from '../gguf/helpers';

const tmp = tempDir('registry-');
afterAll(() => tmp.cleanup());

const model = generateModelSync({
  path: join(tmp.dir, 'gqa.gguf'), nLayer: 2, nEmbd: 64, nHead: 8, nHeadKv: 2, nFf: 96, contextLength: 256,
  weightType: 'Q8_0', types: { embedding: 'F16' }, seed: 5,
});

describe('inspectModel', () => {
  it('reports hash, architecture, sizes, quantization, template and vocabulary', async () => {
    const info = await inspectModel(model.path);
    expect(info.sha256).toBe(createHash('sha256').update(readFileSync(model.path)).digest('hex'));
    expect(info.sha256).toBe(model.sha256);
    expect(info.fileSize).toBe(model.bytes);
    expect(info.architecture).toBe('llama');
    expect(info.parameterCount).toBe(model.nParams);
    // 1 F16 embedding; output + 2 layers x 7 matrices = 15 Q8_0; 1 + 2 x 2 norms F32.
    expect(info.quantization.tensorsByType).toEqual({ F16: 1, Q8_0: 15, F32: 5 });
    expect(info.quantization.elementsByType.F16).toBe(64 * model.nVocab);
    expect(info.quantization.dominant).toBe('Q8_0');
    expect(info.quantization.fileTypeName).toBe('MOSTLY_Q8_0');
    expect(info.contextLength).toBe(256);
    expect(info.chatTemplate).toBe(model.chatTemplate);
    expect(info.vocabulary).toEqual({ model: 'llama', pre: 'default', size: model.nVocab, bos: 1, eos: 2, unk: 0 });
    expect(info.hparams).toMatchObject({ nLayer: 2, nEmbd: 64, nFf: 96, nHead: 8, nHeadKv: 2, headDim: 8, nExpert: 0 });
  });

  it('refuses non-GGUF, truncated, vocab-only, unsupported architecture and tensor type, naming the file', async () => {
    const text = join(tmp.dir, 'notes.gguf');
    writeFileSync(text, 'just text');
    await expect(inspectModel(text)).rejects.toThrow(`${text}: not a GGUF file (magic "just", expected "GGUF")`);

    const cut = join(tmp.dir, 'cut.gguf');
    copyFileSync(model.path, cut);
    truncateSync(cut, model.bytes - 1000);
    await expect(inspectModel(cut)).rejects.toThrow(new RegExp(`cut\\.gguf: truncated file: tensor "[^"]+" needs bytes`));

    const falcon = join(tmp.dir, 'falcon.gguf');
    writeGguf(falcon, { kv: [kv.str('general.architecture', 'falcon')], tensors: [{ name: 'w', shape: [4], type: GgmlType.F32, data: new Uint8Array(16) }] });
    await expect(inspectModel(falcon)).rejects.toThrow(`${falcon}: unsupported architecture "falcon" (supported: llama, qwen2, qwen3, qwen3moe, gemma3)`);

    const iq = join(tmp.dir, 'iq.gguf');
    writeGguf(iq, { kv: [kv.str('general.architecture', 'llama')], tensors: [{ name: 'blk.0.attn_q.weight', shape: [32], type: GgmlType.IQ4_NL, data: new Uint8Array(18) }] });
    await expect(inspectModel(iq)).rejects.toThrow(/iq\.gguf: unsupported tensor type IQ4_NL \(e\.g\. tensor "blk\.0\.attn_q\.weight"/);

    const vocabOnly = join(tmp.dir, 'vocab.gguf');
    writeGguf(vocabOnly, { kv: [kv.str('general.architecture', 'llama')], tensors: [] });
    await expect(inspectModel(vocabOnly)).rejects.toThrow(`${vocabOnly}: no tensors (a vocab-only file cannot be run)`);

    await expect(inspectModel(join(tmp.dir, 'missing.gguf'))).rejects.toBeInstanceOf(ModelRefusedError);
  });
});

describe('estimateFit', () => {
  it('uses node-llama-cpp\'s estimate and compares it with the memory given', async () => {
    const info = await inspectModel(model.path);
    const fit = await estimateFit(info, { contextSize: 256, freeBytes: 1e12, totalBytes: 2e12 });
    expect(fit.source).toBe('node-llama-cpp');
    expect(fit.requiredBytes).toBe(fit.weightsBytes + fit.contextBytes);
    expect(fit.weightsBytes).toBeGreaterThan(0);
    expect(fit.fitsFree).toBe(true);
    const tight = await estimateFit(info, { contextSize: 256, freeBytes: 1000, totalBytes: fit.requiredBytes });
    expect([tight.fitsFree, tight.fitsTotal]).toEqual([false, true]);
  });
  it('header estimate: weights = file size, KV = 2 x layers x ctx x kv heads x head dim x 2 bytes (+ compute)', async () => {
    const info = await inspectModel(model.path);
    const e = headerEstimate(info, 256, 1);
    expect(e.weights).toBe(model.bytes);
    const kvBytes = 2 * 2 * 256 * 2 * 8 * 2;
    const compute = 1 * (model.nVocab * 4 + 96 * 4 * 3 + 64 * 4 * 8) + 256 * 1 * 8 * 4;
    expect(e.context).toBe(kvBytes + compute);
  });
});

describe('registerModel', () => {
  it('stores the model in SQLite, is idempotent by content, and can copy the file', async () => {
    const store = openStore(join(tmp.dir, 'wb.db'));
    try {
      const a = await registerModel(store, model.path);
      const b = await registerModel(store, model.path);
      expect(b.id).toBe(a.id);
      const rec = store.models.get(a.id)!;
      expect(rec).toMatchObject({ path: model.path, sha256: model.sha256, fileSize: model.bytes, architecture: 'llama', parameterCount: model.nParams, quantization: 'Q8_0', contextLength: 256 });
      expect(rec.vocabulary).toEqual({ model: 'llama', pre: 'default', size: model.nVocab, bos: 1, eos: 2, unk: 0 });
      const copied = await registerModel(store, model.path, { copyTo: join(tmp.dir, 'library') });
      expect(copied.id).toBe(a.id); // same content, path updated
      expect(copied.info.path).toBe(join(tmp.dir, 'library', `${model.sha256.slice(0, 12)}-gqa.gguf`));
      expect(existsSync(copied.info.path)).toBe(true);
      expect(store.models.get(a.id)!.path).toBe(copied.info.path);
      await expect(registerModel(store, join(tmp.dir, 'nothing.gguf'))).rejects.toThrow(/nothing\.gguf: file not found/);
      expect(store.models.list()).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});

describe('downloadModel (network is blocked here)', () => {
  it('fails fast offline within its timeout', async () => {
    const t0 = Date.now();
    await expect(downloadModel('hf:example-user/example-repo/model.gguf', { directory: join(tmp.dir, 'dl'), timeoutMs: 3000 })).rejects.toThrow(/hf:example-user\/example-repo\/model\.gguf: /);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
  it('honours cancellation and rejects non-URIs', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(downloadModel('https://example.invalid/m.gguf', { directory: join(tmp.dir, 'dl'), signal: ctrl.signal, timeoutMs: 5000 })).rejects.toThrow(/cancelled|aborted/i);
    await expect(downloadModel('ftp://x/y.gguf', { directory: join(tmp.dir, 'dl') })).rejects.toThrow('ftp://x/y.gguf: expected an hf: URI or an http(s) URL');
  });
});

describe('models CLI', () => {
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    return { code, out, err };
  };
  it('inspect --json, register, list; errors exit 1 with the reason', async () => {
    const db = join(tmp.dir, 'cli.db');
    const ins = await run('models', 'inspect', model.path, '--json');
    expect(ins.code).toBe(0);
    const j = JSON.parse(ins.out);
    expect(j.sha256).toBe(model.sha256);
    expect(j.parameterCount).toBe(model.nParams);
    expect(typeof j.fit.fitsFree).toBe('boolean');
    const reg = await run('--db', db, 'models', 'register', model.path);
    expect(reg.code).toBe(0);
    expect(reg.out).toMatch(/^registered model 1: .*gqa\.gguf \(llama, Q8_0, sha256 [0-9a-f]{12}\)/);
    const list = await run('--db', db, '--json', 'models', 'list');
    expect(JSON.parse(list.out).map((m: { sha256: string }) => m.sha256)).toEqual([model.sha256]);
    const bad = await run('models', 'inspect', join(tmp.dir, 'notes.gguf'));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('notes.gguf: not a GGUF file');
    expect((await run('models', 'frobnicate')).code).toBe(2);
  });
});
