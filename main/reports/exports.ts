/**
 * Per-example exports of stored runs: CSV (one row per example and run, the main figures as columns), a
 * token CSV (one row per prompt token: offsets, segment, relevance, token masks) and JSONL (everything
 * needed to recompute every metric without the database; see JSONL_FORMAT).
 */
import { writeFileSync } from 'node:fs';
import { displayModelName, exampleMetrics, pairName, runContextOf, type RunContext } from '../metrics/run-metrics';
import { taskFor } from '../protocol/task';
import type { StudyConfig } from '../config/study-schema';
import type { Store, TokenInfo } from '../store';

/** Names the JSONL layout; a reader checks it on every run line. */
export const JSONL_FORMAT = 'rationale-workbench-export/2';

export interface ExampleRow {
  record: 'example';
  runId: number;
  model: string;
  dataset: string;
  seed: number;
  exampleId: number;
  externalId: string;
  language: string;
  gold: string[];
  /** The gold answer under the run's task (e.g. "yes"/"no" for a forced-labour indicator); null if none applies. */
  taskGold: string | null;
  prediction: string | null;
  correct: boolean | null;
  /** The answer token's text and its plain-softmax probability (unmasked): p0 of every faithfulness metric. */
  answerToken: string | null;
  answerProb: number | null;
  /** Each option's answer-token probability at the answer position, by label. */
  optionProbs: Record<string, number> | null;
  skippedReason: string | null;
  selfExplanation: unknown[] | null;
  unmatchedItems: number | null;
  /** Per-example metric values as the run computed them (keys "<level>:<pair>:<metric>", "<kind>:<set>"). */
  metrics: Record<string, number | null>;
  /** Masks by "<source>/word" (over `words`) and "<source>/token" (over `tokens`). */
  masks: Record<string, number[]> | null;
  text: string;
  /** The example's whitespace words with character offsets in `text`: what word masks index. */
  words: { text: string; start: number; end: number }[];
  /** The dataset's human rationale (all of it; the run's "human/word" mask is the part its task uses). */
  rationale: { mask: number[] | null; spans: { start: number; end: number; label?: string }[] };
  /** The prompt's tokens: id, text, offsets (into `text` for segment "text", into the prompt otherwise), segment. */
  tokens: TokenInfo[] | null;
  /** Each method's relevance over `tokens` (float32 values as stored), the explained value and its notes. */
  relevance: Record<string, { values: number[]; explainedValue: number | null; meta: Record<string, unknown> | null }>;
  /** p0, the probability after masking each named set, comprehensiveness, sufficiency, AOPC by set/method. */
  faithfulness: Record<string, unknown> | null;
  /** Every masked readout of the example: masked token positions ("3-7,9"; "" = none) -> answer probability. */
  maskedProbs: Record<string, number> | null;
  /** The self-explanation's alignment to the text (matched spans, unmatched items). */
  alignment: unknown;
  /** The rest of the raw outputs (turn texts, stop reasons, notes). */
  rawOutputs: Record<string, unknown>;
}

/** One per run, before its examples: what the run's metrics are labelled and seeded with, and the stored metrics. */
export interface RunLine {
  record: 'run';
  format: typeof JSONL_FORMAT;
  runId: number;
  status: string;
  dataset: string;
  study: { id: number; name: string; config: unknown };
  /** Model name, seed and indicator as the metrics use them (scope and bootstrap seed). */
  context: RunContext;
  metrics: { scope: Record<string, unknown>; name: string; value: number | null; ciLow: number | null; ciHigh: number | null; n: number | null }[];
}

export interface ExportData {
  runs: RunLine[];
  rows: ExampleRow[];
}

export function exportData(store: Store, runIds: number[]): ExportData {
  const runs: RunLine[] = [];
  const rows: ExampleRow[] = [];
  for (const runId of runIds) {
    const run = store.runs.get(runId);
    if (!run) throw new Error(`export: run ${runId} does not exist`);
    const model = store.models.get(run.modelId)!;
    const dataset = store.datasets.get(run.datasetId)!;
    const study = store.studies.get(run.studyId);
    runs.push({
      record: 'run',
      format: JSONL_FORMAT,
      runId,
      status: run.status,
      dataset: dataset.name,
      study: { id: run.studyId, name: study?.name ?? '', config: study?.config ?? null },
      context: runContextOf(store, runId),
      metrics: store.metrics.list(runId).map((m) => ({ scope: m.scope, name: m.name, value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh, n: m.n })),
    });
    const exById = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
    for (const r of store.results.list(runId)) {
      const ex = exById.get(r.exampleId)!;
      const al = r.alignment as { unmatched?: unknown[] } | null;
      const { faithfulness, maskedProbs, ...raw } = r.rawOutputs as Record<string, unknown>;
      rows.push({
        record: 'example',
        runId,
        model: displayModelName(model),
        dataset: dataset.name,
        seed: run.seed,
        exampleId: r.exampleId,
        externalId: ex.externalId,
        language: ex.language,
        gold: ex.labels,
        taskGold: goldOf(study?.config, ex),
        prediction: r.label,
        correct: r.correct,
        answerToken: r.answerToken,
        answerProb: r.answerProb,
        optionProbs: r.optionProbs,
        skippedReason: r.skippedReason,
        selfExplanation: r.selfExplanation,
        unmatchedItems: al && Array.isArray(al.unmatched) ? al.unmatched.length : null,
        metrics: r.skippedReason ? {} : exampleMetrics(r, ex),
        masks: r.masks,
        text: ex.text,
        words: ex.words.map((w) => ({ text: w.text, start: w.start, end: w.end })),
        rationale: { mask: ex.rationaleMask, spans: ex.rationaleSpans },
        tokens: r.tokens,
        relevance: Object.fromEntries(r.relevance.map((v) => [v.method, { values: Array.from(v.values), explainedValue: v.explainedValue, meta: v.meta }])),
        faithfulness: (faithfulness as Record<string, unknown> | undefined) ?? null,
        maskedProbs: (maskedProbs as Record<string, number> | undefined) ?? null,
        alignment: r.alignment ?? null,
        rawOutputs: raw,
      });
    }
  }
  return { runs, rows };
}

/** The gold answer of an example under a study's task (the runner's own rule); null when the task has none. */
function goldOf(config: unknown, ex: Parameters<typeof taskFor>[1]): string | null {
  try {
    return config ? taskFor(config as StudyConfig, ex).gold || null : null;
  } catch {
    return null;
  }
}

/** The example rows only (CSV, reports). */
export function exampleRows(store: Store, runIds: number[]): ExampleRow[] {
  return exportData(store, runIds).rows;
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

/**
 * Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @, and tab
 * or carriage return, which some spreadsheets strip before looking.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field. RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
 * Numbers we write are numbers (a negative probability drop stays -0.02); a text cell that a spreadsheet
 * would run as a formula gets a leading single quote and is quoted, as OWASP recommends: it then shows as
 * the text it is ('=HYPERLINK(...)) instead of running.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (FORMULA_START.test(s)) return `"'${s.replace(/"/g, '""')}"`;
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

/**
 * One row per prompt token of every evaluated example (long format): the token (id, text, offsets,
 * segment), each method's relevance and each source's token mask, one column per method/source present in
 * any row (empty where an example has none). Word masks and masked readouts do not fit a table: see JSONL.
 */
export function toTokenCsv(rows: ExampleRow[]): string {
  const methods = [...new Set(rows.flatMap((r) => Object.keys(r.relevance)))].sort();
  const sources = [...new Set(rows.flatMap((r) => Object.keys(r.masks ?? {}).filter((k) => k.endsWith('/token')).map((k) => k.slice(0, -'/token'.length))))].sort();
  const head = ['run', 'example_id', 'external_id', 'index', 'token_id', 'text', 'start', 'end', 'segment', ...methods.map((m) => `relevance_${m}`), ...sources.map((s) => `mask_${s}`)];
  const lines = [head.join(',')];
  for (const r of rows) {
    (r.tokens ?? []).forEach((t, i) => {
      lines.push(
        [r.runId, r.exampleId, r.externalId, i, t.id, t.text, t.start, t.end, t.segment, ...methods.map((m) => r.relevance[m]?.values[i] ?? null), ...sources.map((s) => r.masks?.[`${s}/token`]?.[i] ?? null)]
          .map(csvField)
          .join(','),
      );
    });
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Each run line, then that run's examples, one JSON object a line (numbers in shortest round-trip form: exact). */
export function toJsonl(data: ExportData): string {
  const lines: string[] = [];
  for (const run of data.runs) {
    lines.push(JSON.stringify(run));
    for (const r of data.rows) if (r.runId === run.runId) lines.push(JSON.stringify(r));
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export function writeExports(store: Store, runIds: number[], files: { csv?: string; jsonl?: string; tokensCsv?: string }): number {
  const data = exportData(store, runIds);
  if (files.csv) writeFileSync(files.csv, '\ufeff' + toCsv(data.rows)); // BOM: spreadsheets then read æøå right
  if (files.tokensCsv) writeFileSync(files.tokensCsv, '\ufeff' + toTokenCsv(data.rows));
  if (files.jsonl) writeFileSync(files.jsonl, toJsonl(data));
  return data.rows.length;
}
