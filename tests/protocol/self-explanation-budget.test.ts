import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import type { LlamaContext, LlamaModel } from 'node-llama-cpp';
import { buildTaskPrompt, selfExplain, selfExplanationTurns, type ChatTurn, type ProtocolRuntime } from '../../main/protocol/index';
import { extractiveGrammarSpec } from '../../main/protocol/self-explanation';
import { extractiveMaxBytes, freeBudget, jsonStringBytes } from '../../main/protocol/self-explanation-budget';
import { PLAIN_TEMPLATE } from './fixtures/templates';
import { STORY_TASK, STORY_TEXT } from './fixtures/story-task';
import { storiesPath, testLlama } from './helpers';

describe('turn-2 budget arithmetic', () => {
  it('the extractive bound is the byte length of the longest output the grammar admits (hand-built)', () => {
    // every optional space taken, every item the longest word ("thoroughly", 10 bytes)
    const item = '{ "rationales": "thoroughly" }';
    const longest = `[ ${item}, ${item} ]`;
    expect(JSON.parse(longest)).toHaveLength(2);
    expect(Buffer.byteLength(longest)).toBe(66);
    expect(extractiveMaxBytes('paper-list', 2, 10)).toBe(66);
    const obj = '{ "rationales": [ "thoroughly", "thoroughly", "thoroughly" ] }';
    expect(extractiveMaxBytes('object', 3, 10)).toBe(Buffer.byteLength(obj));
    expect(extractiveMaxBytes('paper-list', 1, 3)).toBe(Buffer.byteLength('[ { "rationales": "abc" } ]'));
  });

  it('items are counted in JSON-escaped UTF-8 bytes', () => {
    expect(jsonStringBytes('æble')).toBe(5);
    expect(jsonStringBytes('say "hi"')).toBe(10);
    expect(jsonStringBytes("l'amore")).toBe(7);
  });

  it('free mode: one token per character of each item plus a frame', () => {
    expect(freeBudget(3, 40)).toBe(16 + 3 * (40 + 24));
  });

  it('the longest item: longest word; longest span within the cap for parts (a longer single word still admitted)', () => {
    const text = 'aa bb, cc dd verylongword ee';
    expect(extractiveGrammarSpec(text, 'words', 'paper-list', 2).maxItemBytes).toBe('verylongword'.length);
    // the whole text fits a cap of 300: the longest span is the text itself
    expect(extractiveGrammarSpec(text, 'parts', 'paper-list', 2).maxItemBytes).toBe(text.length);
    // cap 9: "aa bb, cc" (9) is the longest span; "verylongword" (12) is one word and stays admitted
    const capped = extractiveGrammarSpec(text, 'parts', 'paper-list', 2, 9);
    expect(capped.maxItemBytes).toBe(12);
    expect(capped.grammar).toContain('s0x0 ::= "aa" (" " s0x1)?');
    expect(capped.grammar).toContain('s0x1 ::= "bb," (" " s0x2)?');
    expect(capped.grammar).toContain('s0x2 ::= "cc"\n'); // "aa bb, cc dd" would be 12 > 9
    expect(capped.grammar).toMatch(/s4x4 ::= "verylongword"\n/);
  });
});

const TASK = STORY_TASK;
const TEXT = STORY_TEXT;

let model: LlamaModel;
let context: LlamaContext;
let rt: ProtocolRuntime;
// a random-weight model (like the demo model) writes long items until a limit stops it
let randomModel: LlamaModel;
let randomContext: LlamaContext;
let randomRt: ProtocolRuntime;
let dir: string;

beforeAll(async () => {
  const llama = await testLlama();
  model = await llama.loadModel({ modelPath: storiesPath });
  context = await model.createContext({ contextSize: 512, threads: 2 });
  rt = { llama, model, sequence: context.getSequence(), template: PLAIN_TEMPLATE };
  dir = mkdtempSync(path.join(os.tmpdir(), 'explain-budget-'));
  const g = await generateModel({ path: path.join(dir, 'random.gguf'), seed: 3, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'synthetic', contextLength: 1024 });
  randomModel = await llama.loadModel({ modelPath: g.path });
  randomContext = await randomModel.createContext({ contextSize: 1024, threads: 2 });
  randomRt = { llama, model: randomModel, sequence: randomContext.getSequence(), template: PLAIN_TEMPLATE };
});
afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
  await randomContext?.dispose();
  await randomModel?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function turn2(k: number): ChatTurn[] {
  const prompt = buildTaskPrompt(TASK, TEXT);
  const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
  return selfExplanationTurns(turns, '(a)', prompt, prompt.options[0], k);
}

describe('turn-2 budget on stories260K', () => {
  it('extractive: generation runs under the derived bound and always completes within it', async () => {
    for (const [unit, shape] of [['words', 'paper-list'], ['parts', 'object'], ['parts', 'paper-list']] as const) {
      const spec = extractiveGrammarSpec(TEXT, unit, shape, 3);
      const bound = extractiveMaxBytes(shape, 3, spec.maxItemBytes);
      for (const seed of [1, 28, 79, 96]) {
        const r = await selfExplain(rt, turn2(3), TEXT, unit, { k: 3, shape, extractive: true, sampling: { seed, temperature: 1.5 } });
        expect(r.budget).toBe(bound);
        expect(r.status, `${unit} ${shape} seed ${seed}: ${r.error} ${r.raw}`).toBe('ok');
        expect(r.tokens.length).toBeLessThanOrEqual(bound);
        expect(Buffer.byteLength(r.raw)).toBeLessThanOrEqual(bound);
        for (const item of r.items) expect(TEXT).toContain(item);
      }
    }
  });

  it('an output at a smaller budget parses (ok) or is truncated with the budget named and no items', async () => {
    let truncated = 0;
    let ok = 0;
    for (const extractive of [true, false]) {
      for (const [seed, limit] of [1, 79, 96, 5].flatMap((sd) => [9, 14, 20, 28, 40].map((l) => [sd, l] as const))) {
        const r = await selfExplain(randomRt, turn2(2), TEXT, 'words', { k: 2, shape: 'paper-list', extractive, sampling: { seed, temperature: 1.5 }, maxItemChars: 12, maxNewTokens: limit });
        expect(r.budget).toBe(limit);
        expect(r.tokens.length).toBeLessThanOrEqual(limit);
        if (r.status === 'ok') {
          ok++;
          expect(() => JSON.parse(r.raw)).not.toThrow();
          expect(r.items.length).toBeLessThanOrEqual(2);
        } else {
          truncated++;
          expect(r.status).toBe('truncated');
          expect(r.items).toEqual([]);
          expect(r.error).toBe(`stopped at the turn-2 budget of ${limit} tokens before the JSON was complete`);
          expect(() => JSON.parse(r.raw)).toThrow();
        }
      }
    }
    // the random model writes long items: short limits cut some outputs, longer ones let others finish
    expect(truncated).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(0);
  });

  it('extractive parts respect maxItemChars (single words excepted)', async () => {
    for (const seed of [1, 28, 79, 96]) {
      const r = await selfExplain(rt, turn2(3), TEXT, 'parts', { k: 3, shape: 'paper-list', extractive: true, sampling: { seed, temperature: 1.5 }, maxItemChars: 10 });
      expect(r.status, r.error).toBe('ok');
      for (const item of r.items) {
        expect(TEXT).toContain(item);
        if (/\s/u.test(item)) expect(item.length).toBeLessThanOrEqual(10);
      }
    }
  });
});
