/**
 * The runner gives the model the study's own prompt templates and custom label sets: a real run of a tiny
 * generated GGUF model (llama.cpp) stores prompt tokens that decode to the custom wording with the text
 * once, the prompt preview shows the same prompt, and a 3-label custom task runs and parses to its labels.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { previewPrompt } from '../../main/api/preview';
import { importFile } from '../../main/datasets/index';
import { generateModel } from '../../main/gguf/generate';
import { namedStudy } from '../../main/studies/builtins';
import { runStudies } from '../../main/runner/study';
import { openStore } from '../../main/store';
import { SENTENCES } from './tiny-study';

const TURN1 = 'Zebra check. Read this: <<{text}>> then pick one of {options} and reply with its letter only.';
const TURN2 = 'Name up to {k} words behind "{label}" as {"rationales": [...]}';

async function fixture(dir: string, rows: object[]) {
  const data = join(dir, 'd.jsonl');
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const db = join(dir, 'db.sqlite');
  const store = openStore(db);
  const datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
  store.close();
  const model = join(dir, 'tiny.gguf');
  await generateModel({ path: model, seed: 7, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
  return { db, datasetId, model };
}

async function run(db: string, config: object) {
  const store = openStore(db);
  try {
    const [report] = await runStudies(store, [namedStudy('t', 't.json', config)], { threads: 2, log: () => {} });
    const runId = report.runs[0].runId;
    return { runId, modelId: store.runs.get(runId)!.modelId, results: store.results.list(runId, { relevance: false }) };
  } finally {
    store.close();
  }
}

describe('runner: study prompt templates', () => {
  it('the stored prompt tokens decode to the custom wording with the text once, as the preview shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-prompts-'));
    const rows = SENTENCES.slice(0, 3).map(([text, label, rationale], i) => ({ id: `s${i + 1}`, language: 'en', text, label, rationale }));
    const { db, datasetId, model } = await fixture(dir, rows);
    const config = {
      name: 'templated', task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId },
      models: [{ path: model, mode: 'paper' }], seeds: [28], prompts: { turn1: TURN1, turn2: TURN2 },
      explanations: ['human', 'self'], selfExplanation: { k: 2 }, metrics: ['accuracy'], onlyCorrect: false, limits: { maxNewTokens: 8 },
    };
    const { runId, modelId, results } = await run(db, config);
    expect(results).toHaveLength(3);

    const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 2, logLevel: LlamaLogLevel.error });
    const m = await llama.loadModel({ modelPath: model, vocabOnly: true });
    try {
      for (const [i, r] of results.entries()) {
        const text = rows[i].text;
        const tokens = r.tokens!;
        const decoded = m.detokenize(tokens.map((t) => t.id) as never, true);
        expect(decoded).toContain(`Zebra check. Read this: <<${text}>> then pick one of (a) This review is overall rather positive \n(b) This review is overall rather negative and reply with its letter only.`);
        expect(decoded.split(text)).toHaveLength(2); // the text exactly once
        expect(decoded).not.toContain('Consider the following movie review');
        // the text tokens are exactly the text
        expect(tokens.filter((t) => t.segment === 'text').map((t) => t.text).join('')).toBe(text);

        // the preview shows the prompt the model was given
        const store = openStore(db);
        const exampleId = store.datasets.examples(datasetId)[i].id;
        store.close();
        const pv = await previewPrompt({ dbFile: db, config, modelId, exampleId });
        expect(pv.tokenCount).toBe(tokens.length);
        // same string, token by token (renderChat tokenizes piece by piece, so re-tokenizing the whole string would differ)
        expect(pv.prompt).toBe(tokens.map((t) => t.text).join(''));
        expect(pv.prompt).toContain(`<<${text}>>`);
      }
      // turn 2 was asked (the stored turn-2 output exists for answers that were not invalid)
      expect(results.some((r) => r.rawOutputs.turn2 !== undefined || r.label === 'invalid')).toBe(true);
    } finally {
      await m.dispose();
    }
    expect(runId).toBeGreaterThan(0);
  }, 120_000);

  it('runs a custom 3-label task: options lettered, answers parsed to the labels or invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-custom-'));
    const texts = [
      ['Win a free cruise now, click here!', 'spam'],
      ['Lunch at noon tomorrow?', 'ham'],
      ['Spring sale: 20% off all shoes.', 'promo'],
      ['Your account is locked, send password.', 'spam'],
    ];
    const rows = texts.map(([text, label], i) => ({ id: `m${i}`, language: 'en', text, label }));
    const { db, datasetId, model } = await fixture(dir, rows);
    const labels = ['spam', 'ham', 'promo'];
    const base = {
      name: 'custom', task: { kind: 'custom', labels }, language: 'en', dataset: { id: datasetId }, seeds: [28],
      explanations: ['random'], metrics: ['accuracy', 'invalid-rate'], onlyCorrect: false, limits: { maxNewTokens: 6 },
    };
    for (const mode of ['scoring', 'paper'] as const) {
      const { results } = await run(db, { ...base, name: `custom ${mode}`, models: [{ path: model, mode }] });
      expect(results).toHaveLength(texts.length);
      for (const [i, r] of results.entries()) {
        const prompt = r.tokens!.map((t) => t.text).join('');
        expect(prompt).toContain(`Consider the following text: ${texts[i][0]} \nChoose one of the following options and start your answer with the respective letter: \n(a) spam \n(b) ham \n(c) promo \nAnswer:`);
        expect([...labels, 'invalid']).toContain(r.label);
        if (r.label !== 'invalid') {
          expect(r.correct).toBe(r.label === texts[i][1]);
          if (mode === 'scoring') {
            expect(Object.keys(r.optionProbs!).sort()).toEqual([...labels].sort());
            // the chosen label is the most probable option
            const best = Object.entries(r.optionProbs!).sort((a, b) => b[1] - a[1])[0][0];
            expect(r.label).toBe(best);
          }
        } else {
          expect(r.skippedReason).toBe('invalid-answer');
        }
      }
      if (mode === 'scoring') expect(results.every((r) => r.label !== 'invalid')).toBe(true);
    }
  }, 120_000);
});
