// LRP engine: agreement with the independent float64 reference (tests/lrp/reference.ts), CP-LRP conservation,
// a planted model, bad input, and the Node API's progress / cancellation / close.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLrpModel, type LrpGate, type LrpRule } from '../../main/lrp/index';
import { GgmlType as G } from '../../main/gguf/quant/types';
import { RefModel, reference } from './reference';
import { modelDir, rewriteGguf, stories, type TinyOptions } from './models';

const models = modelDir('lrp-engine-');
afterAll(() => models.cleanup());
const dir = models.dir;
const model = (o: TinyOptions): string => models.model(o);
const toks = [1, 5, 300, 47, 200, 9, 33];
const ruleSets: [LrpRule, LrpGate][] = [['cp', 'half'], ['cp', 'detach'], ['attn', 'half']];

describe('engine = float64 explicit-rule reference', () => {
  const archs: [string, TinyOptions][] = [
    ['llama F32', { arch: 'llama', weightType: 'F32' }],
    ['llama+experts F32', { arch: 'llama', weightType: 'F32', experts: { count: 4, used: 2 } }],
    ['qwen2 F32 (biases, tied)', { arch: 'qwen2', weightType: 'F32', tiedOutput: true }],
    ['llama Q4_K', { arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 256, nLayer: 1 }],
    ['llama+experts Q8_0', { arch: 'llama', weightType: 'Q8_0', experts: { count: 4, used: 2 } }],
    ['qwen3 F32 (q/k norms)', { arch: 'qwen3', weightType: 'F32' }],
    ['qwen3 F32 head dim 32', { arch: 'qwen3', weightType: 'F32', headDim: 32 }],
    ['qwen3 Q4_K', { arch: 'qwen3', weightType: 'Q4_K', nEmbd: 256, nFf: 256, nLayer: 1 }],
    ['qwen3moe F32 (q/k norms, experts)', { arch: 'qwen3moe', weightType: 'F32', experts: { count: 4, used: 2 } }],
    // 3 layers, pattern 3: layers 0, 1 local (window 3, rope base 10000), layer 2 global; 7 tokens meet the window
    ['gemma3 F32 (post-norms, GELU, sliding window)', { arch: 'gemma3', weightType: 'F32', nLayer: 3, slidingWindow: { window: 3, pattern: 3 } }],
    ['gemma3 Q8_0', { arch: 'gemma3', weightType: 'Q8_0', slidingWindow: { window: 4, pattern: 2 } }],
    // Gemma 3 4B+: linear rope scaling 8 on the global layers only
    ['gemma3 F32 rope scaling', { arch: 'gemma3', weightType: 'F32', ropeScalingLinear: 8, slidingWindow: { window: 4, pattern: 2 } }],
    ['llama 3.1 rope scaling F32', { arch: 'llama', weightType: 'F32', ropeBase: 500000, llama3RopeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64 } }],
    ['mistral v0.3 shape F32 (32768 tokens, 4:1 GQA)', { arch: 'llama', weightType: 'F32', nHead: 4, nHeadKv: 1, ropeBase: 1e6, vocab: 'mistral-v3-layout' }],
  ];
  for (const [name, spec] of archs) {
    it(`${name}: relevance for every rule set within 1e-4 of max |R|`, async () => {
      const f = model(spec);
      const ref = new RefModel(f);
      const m = openLrpModel(f, { threads: 2 });
      try {
        for (const [rule, gate] of ruleSets) {
          const e = await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate });
          const r = reference(ref, toks, { target: 17, contrast: 40, rule, gate });
          const scale = Math.max(...Array.from(r.relevance, Math.abs));
          expect(scale).toBeGreaterThan(1e-3);
          for (let i = 0; i < toks.length; i++) expect(Math.abs(e.relevance[i] - r.relevance[i])).toBeLessThan(1e-4 * scale);
          expect(Math.abs(e.value - r.value)).toBeLessThan(1e-4 * Math.max(1, Math.abs(r.value)));
          // log-probs at the last position as the reference computes them
          const lp = r.logProbsAll[toks.length - 1];
          for (let v = 0; v < lp.length; v += 37) expect(Math.abs(e.logProbs[v] - lp[v])).toBeLessThan(1e-4);
        }
      } finally {
        m.close();
      }
    });
  }
});

const sum = (a: Float32Array) => a.reduce((s, x) => s + x, 0);

describe('CP-LRP conservation (bias-free models)', () => {
  const files: [string, TinyOptions | null][] = [
    ['stories260K', null],
    ['llama+experts F32', { arch: 'llama', weightType: 'F32', experts: { count: 4, used: 2 } }],
    // q/k norms only shape the (frozen) attention; post-norms and GELU take the identity rule: still conserving
    ['qwen3 F32', { arch: 'qwen3', weightType: 'F32' }],
    ['qwen3moe F32', { arch: 'qwen3moe', weightType: 'F32', experts: { count: 4, used: 2 } }],
    ['gemma3 F32', { arch: 'gemma3', weightType: 'F32', slidingWindow: { window: 4, pattern: 2 } }],
    ['gemma3 Q4_K', { arch: 'gemma3', weightType: 'Q4_K', nEmbd: 256, nFf: 256, slidingWindow: { window: 4, pattern: 2 } }],
    ['mistral v0.3 shape Q8_0', { arch: 'llama', weightType: 'Q8_0', nHead: 4, nHeadKv: 1, ropeBase: 1e6, vocab: 'mistral-v3-layout' }],
  ];
  for (const [name, spec] of files) {
    it(`${name}: sum of relevances = explained logit and contrast, both gate options`, async () => {
      const f = spec ? model(spec) : stories;
      const m = openLrpModel(f, { threads: 2 });
      try {
        const tk = [1, 403, 407, 261, 378, 64, 300, 42];
        for (const gate of ['half', 'detach'] as const) {
          const a = await m.attribute({ tokens: tk, rule: 'cp', gate });
          expect(a.target).toBe(a.logProbs.indexOf(Math.max(...a.logProbs)));
          expect(Math.abs(sum(a.relevance) - a.value)).toBeLessThan(1e-4 * Math.abs(a.value));
          const c = await m.attribute({ tokens: tk, target: a.target, contrast: (a.target + 1) % m.info.nVocab, rule: 'cp', gate });
          expect(Math.abs(sum(c.relevance) - c.value)).toBeLessThan(1e-4 * Math.abs(c.value));
        }
      } finally {
        m.close();
      }
    });
  }
});

describe('activation memory: recompute layers in the backward', () => {
  const specs: [string, TinyOptions | null][] = [
    ['stories260K', null],
    ['llama+experts F32', { arch: 'llama', weightType: 'F32', experts: { count: 4, used: 2 } }],
    ['qwen2 Q8_0', { arch: 'qwen2', weightType: 'Q8_0', tiedOutput: true }],
    ['llama Q4_K', { arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 256, nLayer: 2 }],
    ['qwen3 Q8_0', { arch: 'qwen3', weightType: 'Q8_0' }],
    ['gemma3 F32', { arch: 'gemma3', weightType: 'F32', slidingWindow: { window: 4, pattern: 2 } }],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: 'recompute' gives the same bits as 'save' for every rule set, and keeps less`, async () => {
      const m = openLrpModel(spec ? model(spec) : stories, { threads: 2 });
      try {
        for (const [rule, gate] of ruleSets) {
          const a = await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate, activations: 'save' });
          const b = await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate, activations: 'recompute' });
          const auto = await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate });
          expect([a.recomputed, b.recomputed, auto.recomputed]).toEqual([false, true, false]);
          expect(Buffer.from(b.relevance.buffer).equals(Buffer.from(a.relevance.buffer))).toBe(true);
          expect(Buffer.from(b.logProbs.buffer).equals(Buffer.from(a.logProbs.buffer))).toBe(true);
          expect(b.value).toBe(a.value);
          expect(Buffer.from(auto.relevance.buffer).equals(Buffer.from(a.relevance.buffer))).toBe(true);
          expect(b.savedBytes).toBeLessThan(a.savedBytes);
          expect(a.savedBytes).toBeGreaterThan(0);
        }
      } finally {
        m.close();
      }
    });
  }

  it('the estimate counts what the backward keeps: a layer = norms, q/k/v and the FFN (attention maps are recomputed)', async () => {
    // tiny llama: d 64, 4 heads x 16, 2 KV heads, FFN 96, 2 layers
    const m = openLrpModel(model({ arch: 'llama', weightType: 'F32' }), { threads: 1 });
    try {
      const T = toks.length;
      const layer = 2 * T + T * (4 + 2 * 2) * 16 + 2 * T * 96;
      const base = T * 64 + T;
      const a = await m.attribute({ tokens: toks, activations: 'save' });
      const b = await m.attribute({ tokens: toks, activations: 'recompute' });
      expect(a.savedBytes).toBe(4 * (base + 2 * layer));
      expect(b.savedBytes).toBe(4 * (base + 2 * T * 64 + layer));
      await expect(m.attribute({ tokens: toks, activations: 'all' as never })).rejects.toThrow(/activations must be 'auto', 'save' or 'recompute'/);
    } finally {
      m.close();
    }
  });
});

describe('working memory limit', () => {
  it('auto recomputes above a quarter of the limit, and an input that cannot fit is refused with the figures', async () => {
    const m = openLrpModel(model({ arch: 'llama', weightType: 'F32' }), { threads: 2 });
    try {
      const save = await m.attribute({ tokens: toks, activations: 'save' });
      const rec = await m.attribute({ tokens: toks, activations: 'recompute' });
      // a limit whose quarter is below the full save but whose 80 % holds the recomputed activations
      const limit = Math.floor(save.savedBytes * 3.9);
      const auto = await m.attribute({ tokens: toks, memoryLimit: limit });
      expect(auto.recomputed).toBe(true);
      expect(Buffer.from(auto.relevance.buffer).equals(Buffer.from(save.relevance.buffer))).toBe(true);
      expect((await m.attribute({ tokens: toks, memoryLimit: save.savedBytes * 100 })).recomputed).toBe(false);
      // too small for even the recomputed activations: a clear error, and the model keeps working
      await expect(m.attribute({ tokens: toks, memoryLimit: rec.savedBytes / 2 })).rejects.toThrow(
        /^explaining 7 tokens needs about [0-9.]+ GiB of working memory \(recomputed activations, 2 layers, 4 heads\), more than 80% of the [0-9.]+ GiB available; use a shorter text$/,
      );
      await expect(m.attribute({ tokens: toks, activations: 'save', memoryLimit: save.savedBytes })).rejects.toThrow(/or activations 'recompute'$/);
      await expect(m.attribute({ tokens: toks, memoryLimit: -1 })).rejects.toThrow(/memoryLimit must be a positive number of bytes/);
      const again = await m.attribute({ tokens: toks });
      expect(Buffer.from(again.relevance.buffer).equals(Buffer.from(save.relevance.buffer))).toBe(true);
    } finally {
      m.close();
    }
  });
});

describe('planted model', () => {
  it('the answer logit reads only the key token through attention; relevance lands on its positions', async () => {
    const d = 64, V = 512, K = 77, target = 5, other = 6;
    const emb = new Float32Array(d * V);
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let t = 0; t < V; t++) for (let i = 2; i < d; i++) emb[t * d + i] = rnd();
    emb[K * d + 0] = 3; // only the key token has dimension 0
    const zeros = (k: number) => new Float32Array(k);
    const wv = zeros(d * 32); wv[0 * d + 0] = 1;           // v channel 0 (kv head 0) reads dimension 0
    const wo = zeros(d * d); wo[1 * d + 0] = 1;            // residual dimension 1 gets o channel 0 (head 0)
    const out = new Float32Array(d * V);
    for (let t = 0; t < V; t++) for (let i = 2; i < d; i++) out[t * d + i] = 0.1 * rnd();
    for (let i = 0; i < d; i++) out[target * d + i] = 0;
    out[target * d + 1] = 2;                               // the answer logit reads only dimension 1
    const f = model({
      arch: 'llama', weightType: 'F32', nLayer: 1, nEmbd: d, nHead: 4, nHeadKv: 2, nFf: 96,
      tensors: {
        'token_embd.weight': emb, 'output.weight': out, 'blk.0.attn_q.weight': zeros(d * d), 'blk.0.attn_k.weight': zeros(d * 32),
        'blk.0.attn_v.weight': wv, 'blk.0.attn_output.weight': wo, 'blk.0.ffn_down.weight': zeros(96 * d),
      },
    });
    const m = openLrpModel(f, { threads: 2 });
    try {
      const tk = [1, 20, K, 30, 40, K, 50];
      for (const rule of ['cp', 'attn'] as const) {
        const e = await m.attribute({ tokens: tk, target, rule });
        expect(e.value).toBeGreaterThan(0.1);
        const onKey = e.relevance[2] + e.relevance[5];
        // AttnLRP halves A v: the half sent to the attention weights meets q = k = 0 and is absorbed
        const expected = rule === 'cp' ? e.value : e.value / 2;
        expect(Math.abs(onKey - expected)).toBeLessThan(1e-4 * e.value);
        expect(Math.abs(e.relevance[2] - e.relevance[5])).toBeLessThan(1e-5 * e.value);
        for (const i of [0, 1, 3, 4, 6]) expect(Math.abs(e.relevance[i])).toBeLessThan(1e-6 * e.value);
      }
      // a contrast whose other logit reads the last token's own embedding: that token gets the rest
      const c = await m.attribute({ tokens: tk, target, contrast: other, rule: 'cp' });
      expect(Math.abs(sum(c.relevance) - c.value)).toBeLessThan(1e-4 * Math.abs(c.value));
      for (const i of [0, 1, 3, 4]) expect(Math.abs(c.relevance[i])).toBeLessThan(1e-6 * Math.abs(c.value));
    } finally {
      m.close();
    }
  });
});

describe('bad input', () => {
  it('truncated file, unsupported type and architecture, not a GGUF: clear errors; the process carries on', async () => {
    const good = model({ arch: 'llama', weightType: 'F32' });
    const trunc = path.join(dir, 'trunc.gguf');
    const bytes = readFileSync(good);
    writeFileSync(trunc, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    expect(() => openLrpModel(trunc)).toThrow(/truncated: tensor '.*' ends at byte \d+ but the file has \d+ bytes/);
    writeFileSync(trunc, bytes.subarray(0, 200));
    expect(() => openLrpModel(trunc)).toThrow(/not a readable GGUF file/);
    const txt = path.join(dir, 'x.gguf');
    writeFileSync(txt, 'hello, not a model');
    expect(() => openLrpModel(txt)).toThrow(/not a readable GGUF file/);
    expect(() => openLrpModel(path.join(dir, 'missing.gguf'))).toThrow(/does not exist/);
    const iq = rewriteGguf(good, path.join(dir, 'iq.gguf'), { tensorTypes: { 'blk.1.ffn_up.weight': G.IQ4_NL } });
    expect(() => openLrpModel(iq)).toThrow(/tensor 'blk.1.ffn_up.weight' has type iq4_nl, which the LRP engine does not support/);
    const gpt2 = rewriteGguf(good, path.join(dir, 'gpt2.gguf'), { arch: 'gpt2' });
    expect(() => openLrpModel(gpt2)).toThrow(/unsupported architecture 'gpt2'/);
    // after all that, the good model still works
    const m = openLrpModel(good, { threads: 2 });
    try {
      await expect(m.attribute({ tokens: [] })).rejects.toThrow(/empty token sequence/);
      await expect(m.attribute({ tokens: Array(65).fill(3) })).rejects.toThrow(/65 tokens is longer than the model's context \(64\)/);
      await expect(m.attribute({ tokens: [1, 2], target: 512 })).rejects.toThrow(/target token id 512 is out of range \(vocabulary size 512\)/);
      await expect(m.attribute({ tokens: [1, 2], contrast: -3 })).rejects.toThrow(/contrast token id -3 is out of range/);
      await expect(m.attribute({ tokens: [1, 999] })).rejects.toThrow(/token 999 at position 1 is out of range/);
      await expect(m.forward([1, 600])).rejects.toThrow(/token 600 at position 1 is out of range/);
      const ok = await m.attribute({ tokens: [1, 2, 3] });
      expect(ok.relevance.length).toBe(3);
    } finally {
      m.close();
    }
  });
});

describe('Node API', () => {
  it('reports progress per layer, cancels on abort, refuses work after close', async () => {
    const f = model({ arch: 'llama', weightType: 'Q8_0', nLayer: 4, nEmbd: 256, nFf: 512, nHead: 8, nHeadKv: 4, contextLength: 256 });
    const m = openLrpModel(f, { threads: 2 });
    expect(m.info).toMatchObject({ arch: 'llama', nLayer: 4, nEmbd: 256, nVocab: 512, nCtx: 256, threads: 2 });
    const events: string[] = [];
    const tk = Array.from({ length: 200 }, (_, i) => (i * 37) % 512);
    const r = await m.attribute({ tokens: tk, onProgress: (p) => events.push(`${p.phase}:${p.done}/${p.total}`) });
    await new Promise((res) => setTimeout(res, 20));
    expect(events).toEqual([1, 2, 3, 4].map((i) => `forward:${i}/8`).concat([5, 6, 7, 8].map((i) => `backward:${i}/8`)));
    expect(r.timings.forwardMs).toBeGreaterThan(0);
    expect(r.timings.backwardMs).toBeGreaterThan(0);
    const ac = new AbortController();
    const p = m.attribute({ tokens: tk, signal: ac.signal });
    ac.abort(new Error('stopped by test'));
    await expect(p).rejects.toThrow(/stopped by test/);
    const pre = new AbortController();
    pre.abort();
    await expect(m.attribute({ tokens: tk, signal: pre.signal })).rejects.toThrow();
    // close while a computation runs: it finishes or fails cleanly, later calls are refused
    const running = m.attribute({ tokens: tk });
    m.close();
    await running.then(() => undefined, () => undefined);
    await expect(m.attribute({ tokens: tk })).rejects.toThrow(/closed/);
    m.close();
  });
});
