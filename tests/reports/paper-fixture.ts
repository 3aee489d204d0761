/**
 * ReportData from the published study's real files (../shared/data/paper-responses), read directly so the
 * report renderer is exercised on real texts, masks and LRP relevances. Kappa here is a plain reference
 * implementation of the paper's definition (0 when either mask is empty), written for the test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitWords } from '../../main/datasets/words';
import type { ExampleView, ReportData } from '../../main/reports/types';

export const SHARED = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared');

interface OneOverN {
  content: string;
  tokens_pre_alignment: string[];
  rationales_human_pre_alignment: number[];
  rationales_model_pre_alignment: number[];
  model_tokens: string[];
  context_mask: number[];
  relevance_lrp: number[];
}

export function readOneOverN(model: string, seed: number, limit = 40): OneOverN[] {
  const f = resolve(SHARED, `data/paper-responses/sst/${model}/oracle/${seed}/sst_${model}_seed_${seed}_sparsity_oracle_rationales_one_over_n.jsonl`);
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).slice(0, limit).map((l) => JSON.parse(l.replace(/\bNaN\b/g, 'null')));
}

export function kappa(a: number[], b: number[]): number {
  const n = a.length;
  if (!n || !a.some((x) => x > 0) || !b.some((x) => x > 0)) return 0;
  let agree = 0, pa = 0, pb = 0;
  for (let i = 0; i < n; i++) {
    if ((a[i] > 0) === (b[i] > 0)) agree++;
    if (a[i] > 0) pa++;
    if (b[i] > 0) pb++;
  }
  const po = agree / n;
  const pe = (pa / n) * (pb / n) + (1 - pa / n) * (1 - pb / n);
  return pe === 1 ? 0 : (po - pe) / (1 - pe);
}

/** Character spans of SentencePiece pieces inside `text` ("▁" = space), walking forward. */
function pieceSpans(text: string, pieces: string[]): { start: number; end: number }[] {
  let pos = 0;
  return pieces.map((p) => {
    const s = p.replace(/▁/g, ' ').trimStart();
    if (!s) return { start: pos, end: pos };
    const at = text.indexOf(s, pos);
    if (at < 0 || at - pos > 2) return { start: pos, end: pos };
    pos = at + s.length;
    return { start: at, end: pos };
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function paperReportData(): ReportData {
  const models = ['llama', 'mistral'];
  const perModel = models.map((m) => readOneOverN(m, 28, 40));
  const words = perModel.map((rows) =>
    rows.map((r) => ({ hs: kappa(r.rationales_human_pre_alignment, r.rationales_model_pre_alignment) })),
  );
  const examples: ExampleView[] = [];
  const rows = perModel[0];
  const scored = rows.map((r, i) => ({ r, i, k: words[0][i].hs }));
  const best = scored.reduce((a, b) => (b.k > a.k ? b : a));
  const worst = scored.reduce((a, b) => (b.k < a.k ? b : a));
  for (const [reason, pick] of [['best', best], ['worst', worst]] as const) {
    const r = pick.r;
    const ws = splitWords(r.content);
    const textIdx = r.context_mask.map((c, i) => (c > 0 ? i : -1)).filter((i) => i >= 0);
    const spans = pieceSpans(r.content, textIdx.map((i) => r.model_tokens[i]));
    examples.push({
      reason,
      title: `SST example ${pick.i + 1} (Llama-2-13B, seed 28)`,
      text: r.content,
      language: 'en',
      gold: null,
      prediction: null,
      note: `kappa human × self ${pick.k.toFixed(2)}`,
      units: ws.map((w) => ({ start: w.start, end: w.end })),
      sources: [
        { name: 'human', kind: 'binary', values: r.rationales_human_pre_alignment },
        { name: 'self-explanation', kind: 'binary', values: r.rationales_model_pre_alignment },
      ],
    });
    examples.push({
      reason,
      title: `same example, model tokens: LRP (cp)`,
      text: r.content,
      units: spans,
      sources: [{ name: 'LRP (cp)', kind: 'signed', values: textIdx.map((i) => r.relevance_lrp[i]) }],
    });
  }
  // multilingual text (mSST Danish/Italian style sentences) to exercise the fonts
  const ml = 'Filmen er både sjov og rørende – en lille perle. È un film così bello, pieno d’amore! 😀';
  const mlw = splitWords(ml);
  examples.push({
    reason: 'chosen',
    title: 'Multilingual rendering (æøå, accents, emoji)',
    text: ml,
    language: 'da/it',
    units: mlw,
    sources: [{ name: 'human', kind: 'binary', values: mlw.map((w) => (/sjov|rørende|bello|amore/.test(w.text) ? 1 : 0)) }],
  });
  return {
    title: 'Report test: published SST responses',
    generatedAt: new Date(0).toISOString(),
    appVersion: 'test',
    study: { name: 'paper-sst-subset', config: { dataset: 'paper-responses/sst', seed: 28, models } },
    models: models.map((m) => ({ name: m, path: `paper-responses/sst/${m}`, sha256: 'not-a-local-file' })),
    datasets: [{ name: 'SST (FairRationales)', format: 'jsonl', language: 'en', sourcePath: 'paper-responses/sst', sha256: '–', examples: 40, withRationale: 40 }],
    runs: [],
    tables: [
      {
        title: 'Word-level Cohen’s kappa, human × self-explanation (first 40 examples)',
        columns: models,
        rows: [{ label: 'kappa', cells: words.map((w) => ({ value: mean(w.map((x) => x.hs)), n: w.length })) }],
      },
    ],
    heatmap: {
      title: 'Plausibility (Cohen’s kappa)',
      metric: 'kappa',
      rows: ['human × self'],
      columns: models,
      values: [words.map((w) => ({ value: mean(w.map((x) => x.hs)), n: w.length }))],
    },
    faithfulness: [],
    examples,
  };
}
