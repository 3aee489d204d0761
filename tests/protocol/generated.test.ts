import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import { generateModel } from '../../main/gguf/generate';
import { chatTemplateOf, fillerToken, maskedAnswerProb, runExample, type ProtocolRuntime } from '../../main/protocol/index';
import { testLlama, freshDistribution } from './helpers';

// Tiny random llama models carrying the real Llama 3 (BPE) and Llama 2 (SPM) vocabularies and their chat
// templates: the protocol end to end through real tokenizers and the models' own templates.
const TEXT = "Un film così bello: l'amore è più forte, æ ø å 😀!";
const cases = [
  { vocab: 'llama-bpe' as const, chatTemplate: 'llama3' as const },
  { vocab: 'llama-spm' as const, chatTemplate: 'llama2' as const },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'protocol-gen-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(cases)('generated model with the $vocab vocabulary', ({ vocab, chatTemplate }) => {
  let model: LlamaModel;
  let ctx: LlamaContext;
  let ref: LlamaContext;
  let rt: ProtocolRuntime;
  beforeAll(async () => {
    const g = await generateModel({ path: path.join(dir, `${vocab}.gguf`), seed: 3, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab, chatTemplate, contextLength: 1024 });
    const llama = await testLlama();
    model = await llama.loadModel({ modelPath: g.path });
    ctx = await model.createContext({ contextSize: 1024, threads: 2 });
    ref = await model.createContext({ contextSize: 1024, threads: 2 });
    rt = { llama, model, sequence: ctx.getSequence(), template: chatTemplateOf(model) };
  });
  afterAll(async () => {
    await ctx?.dispose();
    await ref?.dispose();
    await model?.dispose();
  });

  const fresh = (tokens: readonly Token[]) => freshDistribution(ref, tokens);

  it('runs the whole protocol (Italian sentiment, constrained) with exact offsets and parsable explanations', async () => {
    for (const seed of [28, 79]) {
      const r = await runExample(rt, { text: TEXT }, {
        task: { task: 'sentiment', language: 'it' }, mode: 'constrained', sampling: { seed, temperature: 1 },
        selfExplanation: { k: 3, shape: 'object' },
      });
      expect(r.classification.status).toBe('ok');
      // the text once from the spans: byte-fallback tokens of one character share its span (offsets.ts), so a
      // character is taken from the first span that reaches it; no text token is left with an empty span
      let at = 0;
      let once = '';
      for (const t of r.textTokens) {
        expect(t.end).toBeGreaterThan(t.start);
        if (t.end > at) once += TEXT.slice(Math.max(at, t.start), t.end);
        at = Math.max(at, t.end);
      }
      expect(once).toBe(TEXT);
      expect(r.explanation!.result.status).toBe('ok');
      expect(r.explanation!.result.items.length).toBeLessThanOrEqual(3);
      const c = r.classification;
      const p = await fresh(c.contextBeforeAnswer);
      const got = c.answer!.prob;
      const want = p.get(c.answer!.id as Token)!;
      expect(Math.abs(got - want)).toBeLessThanOrEqual(5e-3 * want + 1e-7);
    }
  });

  it('scoring and masking agree with fresh evaluations', async () => {
    const r = await runExample(rt, { text: TEXT }, { task: { task: 'sentiment', language: 'da' }, mode: 'scoring', selfExplanation: false });
    const c = r.classification;
    const p = await fresh(c.contextBeforeAnswer);
    expect(Math.abs(c.answer!.prob - p.get(c.answer!.id as Token)!)).toBeLessThanOrEqual(5e-3 * c.answer!.prob + 1e-7);
    const positions = r.textTokens.slice(2, 6).map((t) => t.index);
    const filler = fillerToken(model, 'underscore');
    const got = await maskedAnswerProb(rt.sequence, c.contextBeforeAnswer, positions, filler, c.answer!.id as Token);
    const masked = [...c.contextBeforeAnswer];
    for (const i of positions) masked[i] = filler;
    const want = (await fresh(masked)).get(c.answer!.id as Token)!;
    expect(Math.abs(got - want)).toBeLessThanOrEqual(5e-3 * want + 1e-7);
  });
});
