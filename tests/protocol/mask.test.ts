import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import { generateModel } from '../../main/gguf/generate';
import { nextTokenProb, type ProbReadout } from '../../main/protocol/infer';
import { chatTemplateOf, runExample, type ProtocolRuntime } from '../../main/protocol/index';
import { applyMask, fillerToken, maskedAnswerProb, maskedAnswerProbFull, maskedAnswerProbs } from '../../main/protocol/mask';
import { testLlama, freshDistribution } from './helpers';

// The masked-input primitive and its single-token probability readout on a tiny generated model with the
// real Llama 2 vocabulary and chat template. Every probability is compared with a from-scratch evaluation
// of the masked tokens on another context through another API (evaluateWithMetadata, full distribution).
const TEXT = 'The acting is wooden and the plot drags, but the final scene is genuinely moving and beautifully shot.';

let dir: string;
let model: LlamaModel;
let ctx: LlamaContext;
let ref: LlamaContext;
let rt: ProtocolRuntime;
let context: Token[];
let answer: Token;
let textPos: number[];
let filler: Token;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'protocol-mask-'));
  const g = await generateModel({ path: path.join(dir, 'm.gguf'), seed: 11, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
  const llama = await testLlama();
  model = await llama.loadModel({ modelPath: g.path });
  ctx = await model.createContext({ contextSize: 1024, threads: 2 });
  ref = await model.createContext({ contextSize: 1024, threads: 2 });
  rt = { llama, model, sequence: ctx.getSequence(), template: chatTemplateOf(model) };
  const r = await runExample(rt, { text: TEXT }, { task: { task: 'sentiment', language: 'en' }, mode: 'scoring', selfExplanation: false });
  context = r.classification.contextBeforeAnswer;
  answer = r.classification.answer!.id as Token;
  textPos = r.textTokens.map((t) => t.index);
  filler = fillerToken(model, 'underscore');
});
afterAll(async () => {
  await ctx?.dispose();
  await ref?.dispose();
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const fresh = (tokens: readonly Token[]) => freshDistribution(ref, tokens);

/** The project's tolerance for "equals a from-scratch computation" (batch composition changes float rounding). */
function expectSame(actual: number, expected: number | undefined) {
  expect(expected).toBeDefined();
  expect(Math.abs(actual - expected!)).toBeLessThanOrEqual(5e-3 * Math.max(expected!, 1e-6) + 1e-7);
}

const picks = () => [textPos.slice(0, 2), textPos.slice(5, 9), textPos.filter((_, i) => i % 3 === 0), textPos, [textPos[textPos.length - 1]], []];

describe('nextTokenProb (single-token readout)', () => {
  it('equals the full distribution for likely, unlikely and the most likely tokens, whatever the first bias guess', async () => {
    const seq = rt.sequence;
    const masked = applyMask(context, textPos.slice(3, 7), filler);
    const dist = await fresh(masked);
    const sorted = [...dist.entries()].sort((a, b) => b[1] - a[1]);
    const argmax = sorted[0][0];
    const least = sorted[sorted.length - 1][0];
    const median = sorted[sorted.length >> 1][0];
    const tries: number[] = [];
    const probs: number[] = [];
    for (const t of [answer, argmax, median, least, answer]) {
      const info: ProbReadout = { method: 'distribution', tries: 0 };
      const p = await nextTokenProb(seq, masked, t, info);
      expectSame(p, dist.get(t));
      expect(info.method).toBe('bias');
      tries.push(info.tries);
      probs.push(p);
    }
    // the least likely token is far from the first bias guess: the bias is corrected by re-evaluating the
    // last chunk only. The readout no longer remembers the previous call's odds (that made a result depend
    // on what was read before it): the answer read again takes the same tries and gives the same bits.
    expect(Math.max(...tries)).toBeGreaterThan(1);
    expect(tries[tries.length - 1]).toBe(tries[0]);
    expect(probs[probs.length - 1]).toBe(probs[0]);
    expect(seq.contextTokens).toEqual(masked);
  });

  it('end-of-generation tokens (TokenBias ignores them) are read from the full distribution', async () => {
    const eos = model.tokens.eos!;
    const masked = applyMask(context, textPos.slice(0, 3), filler);
    const info: ProbReadout = { method: 'bias', tries: 0 };
    const p = await nextTokenProb(rt.sequence, masked, eos, info);
    expect(info.method).toBe('distribution');
    expectSame(p, (await fresh(masked)).get(eos));
  });
});

describe('maskedAnswerProb', () => {
  it('with prefix reuse equals a from-scratch evaluation and maskedAnswerProbFull, for both readouts', async () => {
    const seq = rt.sequence;
    for (const positions of picks()) {
      const want = (await fresh(applyMask(context, positions, filler))).get(answer);
      // the cache holds the unmasked context, as after classification
      await maskedAnswerProb(seq, context, [], filler, answer);
      const reused = await maskedAnswerProb(seq, context, positions, filler, answer);
      if (positions.length) expect(seq.contextTokens.slice(0, positions[0])).toEqual(context.slice(0, positions[0]));
      expectSame(reused, want);
      expectSame(await maskedAnswerProb(seq, context, positions, filler, answer, 'distribution'), want);
      expectSame(await maskedAnswerProbFull(seq, context, positions, filler, answer), want);
      expectSame(await maskedAnswerProbFull(seq, context, positions, filler, answer, 'distribution'), want);
    }
  });

  it('reuses a cache that holds another mask (it evaluates from the first differing token)', async () => {
    const seq = rt.sequence;
    const a = textPos.slice(2, 8);
    const b = textPos.slice(2, 6);
    await maskedAnswerProb(seq, context, a, filler, answer);
    const p = await maskedAnswerProb(seq, context, b, filler, answer);
    expectSame(p, (await fresh(applyMask(context, b, filler))).get(answer));
  });

  it('refuses positions outside the context', async () => {
    await expect(maskedAnswerProb(rt.sequence, context, [context.length], filler, answer)).rejects.toThrow(/outside the context/);
    await expect(maskedAnswerProb(rt.sequence, context, [-1], filler, answer)).rejects.toThrow(/outside the context/);
  });
});

describe('maskedAnswerProbs (several sets)', () => {
  it('sequential: results in the given order, each equal to a from-scratch evaluation', async () => {
    const sets = picks();
    const got = await maskedAnswerProbs(rt.sequence, context, sets, filler, answer);
    expect(got).toHaveLength(sets.length);
    for (const [i, s] of sets.entries()) expectSame(got[i], (await fresh(applyMask(context, s, filler))).get(answer));
  });
});
