/**
 * A whole study run (real CLI `run`, real SQLite) on a generated Qwen 3 model (Qwen 2's real BPE vocabulary,
 * Qwen 3's chat template: rendered with thinking off) and on a generated Gemma 3 model (Llama 2's SentencePiece
 * vocabulary standing in for Gemma's, Gemma 3's template: no system role, local sliding-window layers), on a
 * Mistral-7B-v0.3-shaped one (its 32768-token layout with v0.3's control tokens, Mistral's [INST] template, GQA,
 * rope base 1e6) and on a Llama 3.1 one (Llama 3's vocabulary and template, llama3 rope scaling). Each stores
 * a label per example, LRP relevance that conserves the explained logit, and the study's metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateModel, type GenerateModelOptions } from '../../main/gguf/generate';
import { openStore } from '../../main/store';
import { buildReportData } from '../../main/reports/build';
import { renderReportHtml } from '../../main/reports/html';
import { runCli, setup } from './tiny-study';

const ARCHS: [string, Omit<GenerateModelOptions, 'path'>][] = [
  ['qwen3', { arch: 'qwen3', vocab: 'qwen2', chatTemplate: 'qwen3', tiedOutput: true }],
  ['gemma3', { arch: 'gemma3', vocab: 'llama-spm', chatTemplate: 'gemma3', slidingWindow: { window: 16, pattern: 2 } }],
  // Mistral-7B-v0.3's shape: its 32768-token layout with v0.3's control tokens ([INST] = id 3), GQA, rope base 1e6
  ['mistral', { arch: 'llama', vocab: 'mistral-v3-layout', chatTemplate: 'mistral', nHeadKv: 1, ropeBase: 1e6 }],
  // Llama 3.1: Llama 3's BPE vocabulary and template, rope base 500000 with llama3 rope scaling (rope_freqs)
  ['llama31', { arch: 'llama', vocab: 'llama-bpe', chatTemplate: 'llama3', ropeBase: 500000, llama3RopeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64 } }],
];
/** A piece of each template's own markup that must reach the stored prompt. */
const TEMPLATE_MARK: Record<string, string> = {
  qwen3: '<|im_start|>assistant\n<think>\n\n</think>\n\n',
  gemma3: '<start_of_turn>model\n',
  mistral: '[INST]',
  llama31: '<|start_header_id|>',
};
/** Control tokens the template's markup must be tokenized as (one token each, not its characters as text). */
const CONTROL_TOKEN: Record<string, [string, number]> = { mistral: ['[INST]', 3], llama31: ['<|start_header_id|>', 128006] };

describe('runner: a study on the newer architectures', () => {
  for (const [arch, spec] of ARCHS) {
    it(`${arch}: every example labelled, LRP conserves, accuracy / flipping / relevance shares stored`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `rw-arch-${arch}-`));
      const db = join(dir, 'arch.sqlite');
      const file = await setup(dir, db);
      const model = join(dir, `${arch}.gguf`);
      await generateModel({ path: model, seed: 11, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, contextLength: 1024, ...spec });
      const config = JSON.parse(readFileSync(file, 'utf8'));
      config.models = [{ path: model, mode: 'scoring' }];
      config.explanations = ['human', 'lrp-cp', 'random'];
      config.metrics = ['accuracy', 'prob-drop', 'k-greedy-flipping', 'relevance-share'];
      config.limits = { maxExamples: 2 };
      writeFileSync(file, JSON.stringify(config));
      const r = await runCli(['--db', db, '--json', 'run', file, '--threads', '2'], { timeoutMs: 600_000 });
      expect(r.stderr).not.toMatch(/error:/);
      expect(r.status, r.stderr).toBe(0);

      const store = openStore(db);
      try {
        const run = store.runs.list()[0];
        expect(run.status).toBe('done');
        // Qwen 3's thinking switch: recorded with the run's settings (threads, ...) as rendered: off; Gemma 3 has none
        expect(run.timings.thinking).toBe(arch === 'qwen3' ? 'off' : null);
        expect(run.timings.threads).toBe(2);
        const results = store.results.list(run.id);
        expect(results).toHaveLength(2);
        for (const res of results) {
          expect(res.skippedReason ?? null).toBeNull();
          expect(['positive', 'negative']).toContain(res.label);
          expect(res.answerProb).toBeGreaterThan(0);
          // the template's own tokens are in the stored prompt, the text's tokens are marked
          const full = (res.tokens ?? []).map((t) => t.text).join('');
          expect(full).toContain(TEMPLATE_MARK[arch]);
          if (CONTROL_TOKEN[arch]) {
            const [text, id] = CONTROL_TOKEN[arch];
            expect(res.tokens!.find((t) => t.text === text)).toMatchObject({ id, segment: 'template' });
          }
          expect((res.tokens ?? []).some((t) => t.segment === 'text')).toBe(true);
          const lrp = res.relevance.find((x) => x.method === 'lrp-cp')!;
          expect(lrp.values.length).toBe(res.tokens!.length);
          const sum = Array.from(lrp.values).reduce((a, b) => a + b, 0);
          // CP-LRP conserves: the relevances, with the one on the answer's generated prefix (e.g. "(": cut off
          // from the stored prompt's values, kept as its sum), add up to the explained logit (stored with them)
          const logit = lrp.explainedValue! - Number(lrp.meta?.answerPrefixRelevance ?? 0);
          expect(Number.isFinite(logit)).toBe(true);
          expect(Math.abs(sum - logit)).toBeLessThan(1e-3 * Math.max(1, Math.abs(logit)));
        }
        const metrics = store.metrics.list(run.id).filter((m) => m.scope.language === undefined);
        const names = new Set(metrics.map((m) => m.name));
        for (const n of ['accuracy', 'prob-drop', 'k-greedy-flipping', 'relevance-share']) expect(names).toContain(n);
        const shares = metrics.filter((m) => m.name === 'relevance-share' && m.scope.method === 'lrp-cp' && m.scope.segment !== undefined);
        expect(shares.reduce((a, m) => a + m.value!, 0)).toBeCloseTo(1, 6);

        // the report's Method section says so for the Qwen 3 run only
        const data = buildReportData(store, [run.id], { now: new Date(0) });
        const thinking = data.method!.find((m) => m.topic === 'Thinking');
        if (arch === 'qwen3') {
          expect(thinking!.text).toMatch(/^Every run: the model’s chat template has a thinking switch \(Qwen 3’s enable_thinking\), and every prompt was rendered with thinking off/);
          expect(renderReportHtml(data)).toContain('<dt>Thinking</dt>');
        } else expect(thinking).toBeUndefined();
      } finally {
        store.close();
      }

      // predict --json prints the same switch with the rendered prompt
      const p = await runCli(['predict', '--model', model, '--text', 'A warm, funny film.', '--task', 'sentiment', '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
      expect(p.status, p.stderr).toBe(0);
      const out = JSON.parse(p.stdout.trim().split('\n').pop()!);
      expect(out.thinking).toBe(arch === 'qwen3' ? 'off' : null);
      if (arch === 'qwen3') expect(out.prompt).toContain('<|im_start|>assistant\n<think>\n\n</think>\n\n');
      rmSync(dir, { recursive: true, force: true });
    }, 700_000);
  }
});
