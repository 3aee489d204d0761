/**
 * Protocol benchmark (npm run bench:protocol): examples per minute for the whole per-example protocol
 * (turn 1, answer/option probabilities, turn-2 self-explanation, alignment, three masked evaluations)
 * on a generated ~20M-parameter llama model with the Llama-2 vocabulary and chat template, and the
 * speed-up of prefix reuse for masked evaluation over full re-evaluation, in the same run.
 * Texts and human rationales: the first BENCH_N (default 6) English SST sentences of the paper's release.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getLlama, type Token } from 'node-llama-cpp';
import { generateModel, SIZE_PRESETS } from '../main/gguf/generate';
import { physicalCoreCount } from '../main/models/session-threads';
import {
  chatTemplateOf, fillerToken, maskedAnswerProb, maskedAnswerProbFull, runExample, spansToMask,
  type ClassifyMode, type ProtocolRuntime,
} from '../main/protocol/index';

const N = Number(process.env.BENCH_N ?? 6);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dataFile = path.resolve(root, '../shared/data/paper-responses/sst/llama/oracle/28/llama_rationales_seed_28_sparsity_oracle.jsonl');

const examples = readFileSync(dataFile, 'utf8').split('\n').filter((l) => l.trim()).slice(0, N).map((l) => {
  const d = JSON.parse(l.replace(/\bNaN\b/g, 'null'));
  const words = [...(d.content as string).matchAll(/\S+/gu)];
  const spans = words.filter((_, i) => d.gold_label_rationales[i] === 1).map((m) => ({ start: m.index!, end: m.index! + m[0].length }));
  return { text: d.content as string, spans };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-protocol-'));
try {
  const gen = await generateModel({ path: path.join(dir, 'm20.gguf'), seed: 7, ...SIZE_PRESETS['20M'], chatTemplate: 'llama2', contextLength: 2048 });
  const threads = physicalCoreCount();
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads });
  const model = await llama.loadModel({ modelPath: gen.path });
  const context = await model.createContext({ contextSize: 2048, threads });
  const rt: ProtocolRuntime = { llama, model, sequence: context.getSequence(), template: chatTemplateOf(model) };
  const filler = fillerToken(model, 'underscore');
  console.log(`model: ${(gen.nParams / 1e6).toFixed(1)}M parameters, vocab ${gen.nVocab}, threads ${threads}, ${N} SST sentences`);

  const names = ['human', 'self', 'whole text', 'last text token'];
  const reuseMs = names.map(() => 0);
  const fullMs = names.map(() => 0);
  const counts = names.map(() => 0);
  let maxDiff = 0;
  for (const mode of ['scoring', 'constrained', 'paper'] as ClassifyMode[]) {
    let valid = 0;
    let explained = 0;
    const t0 = performance.now();
    for (const ex of examples) {
      const r = await runExample(rt, { text: ex.text, humanRationale: ex.spans }, {
        task: { task: 'sentiment', language: 'en' }, mode, sampling: { seed: 28, temperature: 0.6, topP: 0.9 },
        maxNewTokens: 100, explain: { k: 'human', shape: 'paper-list' },
      });
      if (r.classification.status !== 'ok') continue;
      valid++;
      if (r.explanation) explained++;
      // Faithfulness sets: human rationale, self-explanation, whole text (all text tokens).
      const c = r.classification;
      const units = r.textTokens;
      const sets = [
        spansToMask(units, ex.spans),
        spansToMask(units, r.explanation?.alignment.matched ?? []),
        units.map(() => 1),
        units.map((_, i) => (i === units.length - 1 ? 1 : 0)),
      ].map((m) => units.filter((_, i) => m[i]).map((u) => u.index));
      for (const [k, positions] of sets.entries()) {
        if (positions.length === 0) continue;
        // Each masked evaluation starts from the cache the classification left (context before the answer).
        await maskedAnswerProb(rt.sequence, c.contextBeforeAnswer, [], filler, c.answer!.id as Token);
        const a = performance.now();
        const p1 = await maskedAnswerProb(rt.sequence, c.contextBeforeAnswer, positions, filler, c.answer!.id as Token);
        const b = performance.now();
        const p2 = await maskedAnswerProbFull(rt.sequence, c.contextBeforeAnswer, positions, filler, c.answer!.id as Token);
        const e = performance.now();
        if (mode === 'scoring') {
          reuseMs[k] += b - a;
          fullMs[k] += e - b;
          counts[k]++;
          maxDiff = Math.max(maxDiff, Math.abs(p1 - p2) / Math.max(p2, 1e-9));
        }
      }
    }
    const min = (performance.now() - t0) / 60000;
    console.log(`${mode.padEnd(11)} ${(examples.length / min).toFixed(1)} examples/min (whole protocol incl. masked evaluations; ${valid}/${examples.length} valid answers, ${explained} self-explanations)`);
  }
  // The cached prefix ends at the first masked token: sets starting early in the text gain little, since
  // the Llama-2 template puts only ~10 tokens before the text and the options follow it.
  names.forEach((n, k) => {
    if (counts[k] === 0) return;
    console.log(`masked evaluation (${n}): prefix reuse ${(reuseMs[k] / counts[k]).toFixed(1)} ms vs full re-evaluation ${(fullMs[k] / counts[k]).toFixed(1)} ms (n=${counts[k]}): speed-up ${(fullMs[k] / reuseMs[k]).toFixed(2)}x`);
  });
  const r = reuseMs.reduce((a, b) => a + b, 0);
  const f = fullMs.reduce((a, b) => a + b, 0);
  console.log(`masked evaluation, all sets: speed-up ${(f / r).toFixed(2)}x (max relative difference reuse vs full ${maxDiff.toExponential(1)})`);
  await context.dispose();
  await model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
