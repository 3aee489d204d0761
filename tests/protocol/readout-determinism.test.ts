import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import {
  buildTaskPrompt, classify, fillerToken, generate, maskedAnswerProb, maskedAnswerProbFull, nextTokenDistribution, renderChat, textTokens,
  type ChatTurn, type ClassifyMode, type ProtocolRuntime,
} from '../../main/protocol/index';
import { applyMask, maskedAnswerProbs } from '../../main/protocol/mask';
import { PLAIN_TEMPLATE } from './fixtures/templates';
import { STORY_TASK, STORY_TEXT } from './fixtures/story-task';
import { storiesPath, testLlama } from './helpers';

// Same input, same bits (issue 10 item 12). On stories260K (a real trained Llama) llama.cpp's CPU kernels
// give a token evaluated alone other bits than one inside a batch, so before the canonical layout
// (main/protocol/infer.ts) a probability depended on what the sequence had evaluated before: the same
// masked input read twice differed, and p0 differed from the prediction's answer probability. Every
// comparison here is exact (toBe), not within a tolerance.

let model: LlamaModel;
let context: LlamaContext;
let other: LlamaContext;
let rt: ProtocolRuntime;
let chatTokens: Token[];
let textPos: number[];
let filler: Token;

beforeAll(async () => {
  const llama = await testLlama();
  model = await llama.loadModel({ modelPath: storiesPath });
  // one thread: the same bits as two (llama.cpp's CPU threads split rows, not sums), and on a shared
  // machine two threads wait on each other
  context = await model.createContext({ contextSize: 512, threads: 1 });
  other = await model.createContext({ contextSize: 512, threads: 1 });
  rt = { llama, model, sequence: context.getSequence(), template: PLAIN_TEMPLATE };
  const prompt = buildTaskPrompt(STORY_TASK, STORY_TEXT);
  const chat = renderChat(model, PLAIN_TEMPLATE, [{ role: 'user', pieces: prompt.turn1 }]);
  chatTokens = chat.tokens;
  textPos = textTokens(chat).map((t) => t.index);
  filler = fillerToken(model, 'underscore');
});
afterAll(async () => {
  await context?.dispose();
  await other?.dispose();
  await model?.dispose();
});

async function classified(mode: ClassifyMode) {
  const prompt = buildTaskPrompt(STORY_TASK, STORY_TEXT);
  const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
  const chat = renderChat(model, PLAIN_TEMPLATE, turns);
  return classify(rt, chat, turns, prompt, { mode, sampling: { seed: 28, temperature: 0.6, topP: 0.9 }, maxNewTokens: 24 });
}

describe('probability readout: same input, same bits', () => {
  it('the same masked input read after different histories gives identical bits, equal to a clean evaluation', async () => {
    const seq = rt.sequence;
    const answer = chatTokens[chatTokens.length - 1];
    const context = chatTokens.slice(0, -1);
    const positions = textPos.slice(4, 7);
    const masked = applyMask(context, positions, filler);
    const clean = await maskedAnswerProbFull(seq, context, positions, filler, answer);
    const histories: (() => Promise<unknown>)[] = [
      async () => undefined, // the same input was just read: only the last token is new
      () => seq.clearHistory(),
      () => maskedAnswerProb(seq, context, [], filler, answer), // the unmasked context, as after classification
      () => maskedAnswerProb(seq, context, textPos.slice(2, 9), filler, answer), // another mask of the same text
      () => maskedAnswerProb(seq, context, [textPos[textPos.length - 1]], filler, answer), // a mask that ends late
      () => generate(seq, model, masked.slice(0, -3), { sampling: { seed: 1, temperature: 1 }, maxNewTokens: 5 }), // generation: one token at a time
    ];
    const got: number[] = [];
    for (const h of histories) {
      await h();
      got.push(await maskedAnswerProb(seq, context, positions, filler, answer));
    }
    for (const p of got) expect(p).toBe(clean);
    // another sequence of another context, from scratch
    const seq2 = other.getSequence();
    try {
      expect((await nextTokenDistribution(seq2, masked)).get(answer)).toBe(clean);
    } finally {
      await seq2.dispose();
    }
    // several sets in one call (sorted for prefix sharing): the same bits as single calls
    const sets = [positions, [], textPos.slice(2, 9), [textPos[0]]];
    const many = await maskedAnswerProbs(seq, context, sets, filler, answer);
    expect(many[0]).toBe(clean);
    for (const [i, s] of sets.entries()) expect(many[i]).toBe(await maskedAnswerProbFull(seq, context, s, filler, answer));
  }, 600_000);

  for (const mode of ['scoring', 'constrained'] as const) {
    it(`${mode} mode: p0 (nothing masked) is the prediction's answer probability, bit for bit`, async () => {
      // a different history first: the cache holds an unrelated evaluation
      await maskedAnswerProb(rt.sequence, chatTokens, [textPos[1]], filler, chatTokens[3]);
      const cls = await classified(mode);
      expect(cls.status).toBe('ok');
      const answer = cls.answer!;
      const p0 = await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, [], filler, answer.id as Token);
      expect(p0).toBe(answer.prob);
      expect(p0).toBeGreaterThan(0);
      if (cls.optionProbsNote === undefined) expect(cls.optionProbs[cls.label!]).toBe(answer.prob);
      // and classifying again, after masked readouts, gives the same answer probability
      await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, textPos.slice(0, 3), filler, answer.id as Token);
      const again = await classified(mode);
      expect(again.answer!.prob).toBe(answer.prob);
      expect(again.responseText).toBe(cls.responseText);
      // comprehensiveness of a set is the probability drop of the same set: p0 - p(set) from the same readout
      const set = textPos.slice(1, 4);
      const pSet = await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, set, filler, answer.id as Token);
      await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, [], filler, answer.id as Token);
      expect(await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, set, filler, answer.id as Token)).toBe(pSet);
    }, 600_000);
  }
});
