/**
 * Per-example exports of stored runs: CSV (one row per example and run, the main figures as columns)
 * and JSONL (everything, including masks and every per-example metric).
 */
import { writeFileSync } from 'node:fs';
import { exampleMetrics, pairName } from '../runner/evaluate';
import { modelName } from '../runner/finalize';
import type { Store } from '../store';

export interface ExampleRow {
  runId: number;
  model: string;
  dataset: string;
  seed: number;
  exampleId: number;
  externalId: string;
  language: string;
  gold: string[];
  prediction: string | null;
  correct: boolean | null;
  answerProb: number | null;
  skippedReason: string | null;
  selfExplanation: unknown[] | null;
  unmatchedItems: number | null;
  metrics: Record<string, number | null>;
  masks: Record<string, number[]> | null;
  text: string;
}

export function exampleRows(store: Store, runIds: number[]): ExampleRow[] {
  const rows: ExampleRow[] = [];
  for (const runId of runIds) {
    const run = store.runs.get(runId);
    if (!run) throw new Error(`export: run ${runId} does not exist`);
    const model = store.models.get(run.modelId)!;
    const dataset = store.datasets.get(run.datasetId)!;
    const exById = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
    for (const r of store.results.list(runId)) {
      const ex = exById.get(r.exampleId)!;
      const al = r.alignment as { unmatched?: unknown[] } | null;
      rows.push({
        runId,
        model: (model.metadata as { name?: string })?.name ?? modelName(model.path),
        dataset: dataset.name,
        seed: run.seed,
        exampleId: r.exampleId,
        externalId: ex.externalId,
        language: ex.language,
        gold: ex.labels,
        prediction: r.label,
        correct: r.correct,
        answerProb: r.answerProb,
        skippedReason: r.skippedReason,
        selfExplanation: r.selfExplanation,
        unmatchedItems: al && Array.isArray(al.unmatched) ? al.unmatched.length : null,
        metrics: r.skippedReason ? {} : exampleMetrics(r, ex),
        masks: r.masks,
        text: ex.text,
      });
    }
  }
  return rows;
}

const CSV_METRICS: [string, string][] = [
  ['kappa_human_self_word', `word:${pairName('human', 'self')}:kappa`],
  ['f1_human_self_word', `word:${pairName('human', 'self')}:f1`],
  ['recall_human_self_word', `word:${pairName('human', 'self')}:recall`],
  ['kappa_human_self_token', `token:${pairName('human', 'self')}:kappa`],
  ['kappa_human_lrp_token', `token:${pairName('human', 'lrp-cp')}:kappa`],
  ['kappa_human_lrp_contrast_token', `token:${pairName('human', 'lrp-contrast')}:kappa`],
  ['kappa_self_lrp_token', `token:${pairName('self', 'lrp-cp')}:kappa`],
  ['kappa_human_random_token', `token:${pairName('human', 'random')}:kappa`],
  ['auprc_lrp', 'token:auprc:lrp-cp'],
  ['p0', 'faith:p0'],
  ['p_human', 'faith:p:human'],
  ['p_self', 'faith:p:self'],
  ['p_lrp', 'faith:p:lrp-cp'],
  ['p_random', 'faith:p:random'],
  ['p_whole_text', 'faith:p:whole-text'],
];

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: ExampleRow[]): string {
  const head = ['run', 'model', 'dataset', 'seed', 'example_id', 'external_id', 'language', 'gold', 'prediction', 'correct', 'answer_prob', 'skipped_reason', 'self_explanation', 'unmatched_items', ...CSV_METRICS.map(([h]) => h), 'text'];
  const lines = [head.join(',')];
  for (const r of rows) {
    lines.push(
      [r.runId, r.model, r.dataset, r.seed, r.exampleId, r.externalId, r.language, r.gold.join('|'), r.prediction, r.correct === null ? '' : r.correct ? 1 : 0, r.answerProb, r.skippedReason, r.selfExplanation ? JSON.stringify(r.selfExplanation) : '', r.unmatchedItems, ...CSV_METRICS.map(([, k]) => r.metrics[k] ?? null), r.text]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function toJsonl(rows: ExampleRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function writeExports(store: Store, runIds: number[], files: { csv?: string; jsonl?: string }): number {
  const rows = exampleRows(store, runIds);
  if (files.csv) writeFileSync(files.csv, '\ufeff' + toCsv(rows)); // BOM: spreadsheets then read æøå right
  if (files.jsonl) writeFileSync(files.jsonl, toJsonl(rows));
  return rows.length;
}
