/**
 * Issue 14 items 2 and 3 (a study per night; memory of a study process), on a real tiny llama GGUF through the
 * runner's own per-example pipeline:
 * - the run's context is sized to the study's longest example (runner/fit.ts studyContextSize), and every stored
 *   value (turn 2's budget included) is the same as in the full context runContextSize gave;
 * - a masked set read once for an example is not evaluated again (runner/example.ts reuseMaskedReadouts), with
 *   the same stored values;
 * - llama.cpp loads without mmap (models/session.ts llamaLoadOptions) and computes the same bits as with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type LlamaContextSequence, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStudyConfig, type StudyConfig } from '../../main/config/study-schema';
import { importFile } from '../../main/datasets/index';
import { generateModel } from '../../main/gguf/generate';
import { openLrpModel, type LrpModel } from '../../main/lrp';
import { llamaLoadOptions } from '../../main/models/session';
import { chatTemplateOf, fillerToken, nextTokenDistribution } from '../../main/protocol';
import { makeProcessor } from '../../main/runner/example';
import { runContextSize, studyContextSize } from '../../main/runner/fit';
import { openStore, type ResultInput, type RunRecord, type StoredExample } from '../../main/store';
import { SENTENCES } from './tiny-study';

const N = 4;
let dir: string;
let modelPath: string;
let examples: StoredExample[];
let config: StudyConfig;
let lrp: LrpModel;

/** A result as stored, less the engine's time. */
const comparable = (r: ResultInput) => JSON.stringify({ ...r, relevance: r.relevance?.map((x) => ({ ...x, meta: { ...(x.meta ?? {}), ms: undefined } })) });

function studyConfig(datasetId: number, extra: object = {}): StudyConfig {
  const r = parseStudyConfig({
    name: 'memory test', task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId },
    models: [{ path: modelPath, mode: 'scoring' }], seeds: [28], explanations: ['human', 'self', 'lrp-cp', 'random'],
    binarisation: 'top-k-human', selfExplanation: { k: 'human', matching: 'robust' }, onlyCorrect: false,
    metrics: ['accuracy', 'prob-drop', 'comprehensiveness', 'sufficiency', 'k-greedy-flipping'], limits: { threads: 1 }, ...extra,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rw-study-memory-'));
  const data = join(dir, 'sst-mini.jsonl');
  writeFileSync(data, SENTENCES.map(([text, label, rationale], i) => JSON.stringify({ id: `s${i + 1}`, language: 'en', text, label, rationale })).join('\n') + '\n');
  const store = openStore(join(dir, 'db.sqlite'));
  const datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
  examples = store.datasets.examples(datasetId).slice(0, N);
  store.close();
  modelPath = join(dir, 'tiny.gguf');
  // trained context 4096, as Llama 2: runContextSize gives the limits' 3,612 tokens
  await generateModel({ path: modelPath, seed: 7, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 4096, vocab: 'synthetic' });
  config = studyConfig(datasetId);
  lrp = openLrpModel(modelPath, { threads: 1 });
}, 120_000);

afterAll(() => {
  lrp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every example through the runner's pipeline on a fresh context of `contextSize`; evaluations counted. */
async function runAll(contextSize: number | 'sized', opts: { reuseMaskedReadouts?: boolean; config?: StudyConfig } = {}): Promise<{ results: string[]; evaluations: number; contextSize: number }> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, ...llamaLoadOptions });
  const template = chatTemplateOf(model);
  const cfg = opts.config ?? config;
  const size = contextSize === 'sized' ? studyContextSize(model.trainContextSize, { model, template }, cfg, examples) : contextSize;
  const context = await model.createContext({ contextSize: size, threads: 1, sequences: 1 });
  let evaluations = 0;
  const seq = context.getSequence();
  const counted = new Proxy(seq, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (p === 'controlledEvaluate' || p === 'evaluate') evaluations++;
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as LlamaContextSequence;
  try {
    const processor = makeProcessor({ rt: { llama, model, sequence: counted, template }, lrp, filler: fillerToken(model, 'underscore') as Token, config: cfg, seed: 28, mode: 'scoring', reuseMaskedReadouts: opts.reuseMaskedReadouts });
    const results: string[] = [];
    for (const ex of examples) results.push(comparable(await processor(ex, { run: {} as RunRecord, signal: new AbortController().signal, timings: {} })));
    return { results, evaluations, contextSize: context.contextSize };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

describe('a study process: context sized to its examples, masked readouts read once, weights read not mapped', () => {
  it('the context is sized to the longest example (a multiple of 256 below runContextSize), with the same stored values as the full context', async () => {
    const full = runContextSize(4096, config.limits);
    expect(full).toBe(3612);
    const big = await runAll(full);
    const sized = await runAll('sized');
    expect(sized.contextSize % 256).toBe(0);
    expect(sized.contextSize).toBeLessThan(full);
    // turn 2 ran and kept its budget: the grammar's bound, not what a small context had left
    const first = JSON.parse(sized.results[0]) as ResultInput;
    expect(first.rawOutputs.turn2Budget).toBeGreaterThan(0);
    expect(sized.results).toEqual(big.results);
  }, 300_000);

  it('a study with self-consistency tests keeps runContextSize (their edits take what the context has left)', async () => {
    const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath, ...llamaLoadOptions });
    try {
      const withTests = { ...config, selfConsistency: ['redaction'] } as StudyConfig;
      expect(studyContextSize(4096, { model, template: chatTemplateOf(model) }, withTests, examples)).toBe(runContextSize(4096, config.limits));
      // an example longer than the limits' context keeps it too
      const long = { ...examples[0], text: Array(4000).fill('film').join(' '), words: Array.from({ length: 4000 }, (_, i) => ({ text: 'film', start: 5 * i, end: 5 * i + 4 })) };
      expect(studyContextSize(4096, { model, template: chatTemplateOf(model) }, config, [examples[0], long as StoredExample])).toBe(runContextSize(4096, config.limits));
    } finally {
      await model.dispose();
    }
  }, 120_000);

  it('a masked set is evaluated once per example: fewer evaluations, the same stored values', async () => {
    // no self-explanation (a random tiny model's rarely matches the text, and an unmatched one ends the example)
    const cfg = { ...config, explanations: config.explanations.filter((e) => e.method !== 'self') } as StudyConfig;
    const every = await runAll('sized', { reuseMaskedReadouts: false, config: cfg });
    const once = await runAll('sized', { config: cfg });
    expect(once.results).toEqual(every.results);
    expect(once.evaluations).toBeLessThan(every.evaluations);
  }, 300_000);

  it('llama.cpp computes the same bits with the weights read (llamaLoadOptions) as mapped', async () => {
    expect(llamaLoadOptions.useMmap).toBe(false);
    const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });
    const dists: Map<Token, number>[] = [];
    for (const useMmap of [true, false]) {
      const model = await llama.loadModel({ modelPath, useMmap });
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      try {
        dists.push(await nextTokenDistribution(context.getSequence(), model.tokenize('The film was good and the acting great', true)));
      } finally {
        await context.dispose();
        await model.dispose();
      }
    }
    expect([...dists[1]]).toEqual([...dists[0]]);
  }, 120_000);
});
