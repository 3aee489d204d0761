/**
 * The published study's files as a run of a study: `import-run <dir-or-file> --format paper --study <id>`.
 *
 * What is stored (the layout main/metrics/run-metrics.ts reads, so `metrics <runId>` treats the run like
 * one made here):
 *   - the file's sentences as a dataset (once per file content; a re-import reuses it), words split on
 *     single spaces as the paper does, the human rationale from `gold_label_rationales`;
 *   - a model record named from the folder (".../sst/<model>[_lrp...]/oracle/<seed>/" -> "<model>",
 *     "imported:" path, sha256 of the name as for every imported model);
 *   - one result per line under the workbench's one rule for invalid answers (evaluate.ts): `label` is
 *     'invalid' when our parser cannot read the answer (never correct, not scored for plausibility, skip
 *     reason invalid-answer), else the rule's reading (the paper's normaliser under 'paper', ours under
 *     'robust'); `correct` = label is the gold label. rawOutputs keep the answer text, both readings and
 *     the rule, so the difference stays visible; the run's notes (`notes`) give accuracy and plausibility
 *     under the paper's own convention beside ours where they differ;
 *   - masks "human/word" and "self/word" as the chosen rule aligns them (paper rule: the gold mask is the
 *     gold phrases matched back like the model's items, as the authors scored it);
 *   - the self-explanation items, matched and unmatched; LRP relevance over the whole chat prompt where
 *     the file has it (relevance_lrp -> lrp-cp, relevance_lrp_contrast -> lrp-contrast,
 *     relevance_random -> random), with one token per prompt token: the vocabulary id from
 *     `perturbation`, segment "text" where `context_mask` is 1 and "prompt" elsewhere. The files carry ids
 *     only: `importPaperRunWithTokens` adds each token's text and, for text tokens, offsets into the example
 *     text when the model's tokenizer is available and proven (tokens.ts); otherwise ids only, with a note
 *     (rawOutputs.tokenNote per example, PaperImportResult.tokens.notes for the run);
 *   - a skip reason for every example not scored: wrong-answer, not-explained (correct but the file has no
 *     self-explanation), or the adapter's reason (self-explanation: SyntaxError / KeyError / align ...).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ParsedDataset, ParsedExample } from '../../datasets/types';
import { writeTransaction, type RelevanceInput, type ResultInput, type Store, type TokenInfo } from '../../store';
import { evaluateWordLevel, type MatchingRule, type PlausibilityFigures, type WordLevelSummary } from './evaluate';
import { listPaperRunFiles, readPaperFile, type PaperRecord } from './read';
import { decodePaperRunTokens, idOnlyTokens, resolveTokenizerArg, type PaperTokenDecoding } from './tokens';

export interface PaperImportOptions {
  studyId: number;
  /** Default: the model folder's name without its _lrp / _lrp_contrast / _random suffix. */
  model?: string;
  /** Default: the seed folder's name, else the perturbation records' seed, else 0. */
  seed?: number;
  rule?: MatchingRule;
  appVersion?: string;
}

export interface PaperImportResult {
  runId: number;
  datasetId: number;
  modelId: number;
  file: string;
  model: string;
  seed: number;
  summary: WordLevelSummary;
  /** Where the paper's convention gives other figures than the workbench's rule: both, side by side (for the run's notes). */
  notes: string[];
  /** Token decoding: the tokenizer used (null: ids only), how many examples got text, and the run's notes. */
  tokens: { tokenizer: string | null; tokenizerPath: string | null; decoded: number; withIds: number; notes: string[] };
}

export interface PaperTokenOptions {
  /**
   * A GGUF path or a bundled vocabulary name ("llama-spm") to try instead of automatic matching; 'none'
   * skips decoding. Either way the tokenizer is used only where it is proven (tokens.ts).
   */
  tokenizer?: string;
}

/** The one response file of a run folder, or the file itself. */
export function paperRunFile(fileOrDir: string): string {
  const abs = resolve(fileOrDir);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new Error(`${fileOrDir}: no such file or folder`);
  }
  if (!isDir) return abs;
  const files = listPaperRunFiles(abs);
  if (files.length === 0) throw new Error(`${fileOrDir}: no response file (*.jsonl, not *_one_over_n.jsonl) in this folder`);
  if (files.length > 1) throw new Error(`${fileOrDir}: ${files.length} response files (${files.map((f) => basename(f)).join(', ')}); give one of them`);
  return files[0];
}

/** ".../<model>[_lrp|_lrp_contrast|_random]/oracle/<seed>/file.jsonl" -> { model, variant, seed }. */
export function paperRunNames(file: string): { model: string | null; variant: string | null; seed: number | null } {
  const seedDir = basename(dirname(file));
  const modelDir = basename(dirname(dirname(dirname(file))));
  const m = /^([A-Za-z0-9.-]+?)(_lrp_contrast|_lrp|_random)?$/.exec(modelDir);
  return {
    model: m ? m[1] : null,
    variant: m?.[2] ? m[2].slice(1) : null,
    seed: /^\d+$/.test(seedDir) ? Number(seedDir) : null,
  };
}

function toExample(r: PaperRecord): ParsedExample {
  const spans = r.words.flatMap((w, i) => (r.goldWordMask[i] === 1 ? [{ start: w.start, end: w.end }] : []));
  return {
    externalId: String(r.line),
    text: r.text,
    language: 'en',
    labels: [r.goldLabel],
    words: r.words.map((w) => ({ text: w.text, start: w.start, end: w.end })),
    rationaleMask: [...r.goldWordMask],
    rationaleSpans: spans,
  };
}

const RELEVANCE_METHOD = { lrp: 'lrp-cp', lrpContrast: 'lrp-contrast', random: 'random' } as const;

function tokensAndRelevance(r: PaperRecord, decoded: TokenInfo[] | undefined): { tokens: TokenInfo[] | null; relevance: RelevanceInput[]; notes: Record<string, string> } {
  const notes: Record<string, string> = { ...r.relevanceMissing };
  const p = r.perturbation;
  const relevance: RelevanceInput[] = [];
  if (!p) {
    for (const k of Object.keys(r.relevance) as (keyof typeof RELEVANCE_METHOD)[]) if (r.relevance[k]) notes[RELEVANCE_METHOD[k]] = 'no perturbation record: no tokens to attach it to';
    return { tokens: null, relevance, notes };
  }
  const tokens: TokenInfo[] = decoded ?? idOnlyTokens(p);
  for (const k of Object.keys(RELEVANCE_METHOD) as (keyof typeof RELEVANCE_METHOD)[]) {
    const v = r.relevance[k];
    if (!v) continue;
    if (v.length !== tokens.length) {
      notes[RELEVANCE_METHOD[k]] = `${v.length} relevance values for ${tokens.length} prompt tokens: not stored`;
      continue;
    }
    relevance.push({ method: RELEVANCE_METHOD[k], values: v, meta: { source: 'paper', answerTokenId: p.answerTokenId } });
  }
  return { tokens, relevance, notes };
}

function checkOptions(store: Store, opts: PaperImportOptions): MatchingRule {
  if (!store.studies.get(opts.studyId)) throw new Error(`study ${opts.studyId} does not exist`);
  const rule: MatchingRule = opts.rule ?? 'robust';
  if (rule !== 'paper' && rule !== 'robust') throw new Error(`matching rule must be paper or robust, got "${String(rule)}"`);
  return rule;
}

function readRun(fileOrDir: string, opts: PaperImportOptions): { file: string; records: PaperRecord[]; model: string } {
  const file = paperRunFile(fileOrDir);
  const records = readPaperFile(file);
  if (records.length === 0) throw new Error(`${file}: no records`);
  const model = opts.model ?? paperRunNames(file).model ?? basename(file).replace(/\.jsonl$/, '');
  return { file, records, model };
}

const notDecoded = (records: readonly PaperRecord[], note: string): PaperTokenDecoding => ({
  tokenizer: null,
  byLine: new Map(),
  failures: new Map(),
  withIds: records.filter((r) => r.perturbation).length,
  notes: [note],
  tried: [],
});

/**
 * Reads, evaluates with the chosen rule and stores the file as a run of the study (not finalised: call
 * finalizeRun). Tokens keep their ids only; `importPaperRunWithTokens` decodes them where it can.
 */
export function importPaperRun(store: Store, fileOrDir: string, opts: PaperImportOptions): PaperImportResult {
  const rule = checkOptions(store, opts);
  const { file, records, model } = readRun(fileOrDir, opts);
  return storePaperRun(store, file, records, model, opts, rule, notDecoded(records, 'token text not decoded: imported without a tokenizer'));
}

/**
 * As importPaperRun, and each prompt token gets its text and each text token its offsets into the example
 * text when a tokenizer is proven for the run (automatic matching, or `tok.tokenizer`; see tokens.ts).
 */
export async function importPaperRunWithTokens(store: Store, fileOrDir: string, opts: PaperImportOptions & PaperTokenOptions): Promise<PaperImportResult> {
  const rule = checkOptions(store, opts);
  const { file, records, model } = readRun(fileOrDir, opts);
  const decoding =
    opts.tokenizer === 'none'
      ? notDecoded(records, 'token text not decoded: --tokenizer none')
      : await decodePaperRunTokens(records, { model, ...(opts.tokenizer !== undefined ? { tokenizer: resolveTokenizerArg(opts.tokenizer) } : {}) });
  return storePaperRun(store, file, records, model, opts, rule, decoding);
}

function storePaperRun(
  store: Store,
  file: string,
  records: PaperRecord[],
  model: string,
  opts: PaperImportOptions,
  rule: MatchingRule,
  decoding: PaperTokenDecoding,
): PaperImportResult {
  const summary = evaluateWordLevel(records, rule);
  const names = paperRunNames(file);
  const seed = opts.seed ?? names.seed ?? records.find((r) => r.perturbation)?.perturbation?.seed ?? 0;

  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  const parsed: ParsedDataset = {
    name: `${basename(file)} (paper responses)`,
    format: 'jsonl',
    sourcePath: file,
    sourceSha256: sha,
    language: 'en',
    labelSet: ['negative', 'positive'],
    examples: records.map(toExample),
  };
  const results: ResultInput[] = records.map((r, i) => {
    const ev = summary.examples[i];
    const decoded = decoding.byLine.get(r.line);
    const { tokens, relevance, notes } = tokensAndRelevance(r, decoded);
    // per example: which tokenizer gave the text, or why the ids stayed without it
    const tokenNote = !r.perturbation
      ? null
      : decoded
        ? null
        : decoding.tokenizer
          ? `token text not decoded: ${decoding.tokenizer.name} not proven here: ${decoding.failures.get(r.line) ?? 'not attempted'}`
          : (decoding.notes[0] ?? 'token text not decoded');
    const rawOutputs: Record<string, unknown> = {
      imported: basename(file),
      line: r.line + 1,
      rule,
      turn1: r.response,
      parsedAnswer: ev.prediction,
      paperPrediction: ev.paperPrediction,
      ...(ev.label === 'invalid' ? { paperConvention: `the paper read this answer as ${ev.paperPrediction}${ev.paperCorrect ? ', counted correct' : ''}${ev.f1 !== undefined ? ' and scored its self-explanation' : ''}` } : {}),
      authorsNormalized: r.authorsNormalized,
      ...(r.rationales !== undefined ? { turn2: r.rationales } : {}),
      ...(r.rationalesChecked !== undefined ? { turn2Repaired: r.rationalesChecked } : {}),
      ...(Object.keys(notes).length ? { relevanceNotes: notes } : {}),
      ...(decoded ? { tokenizer: decoding.tokenizer!.name } : {}),
      ...(tokenNote ? { tokenNote } : {}),
    };
    const masks: Record<string, number[]> = {};
    // an invalid answer's self-explanation is not scored (the workbench's rule): its masks are not stored
    if (ev.goldMask && ev.predMask && ev.label !== 'invalid') {
      masks['human/word'] = ev.goldMask;
      masks['self/word'] = ev.predMask;
    } else masks['human/word'] = [...r.goldWordMask];
    let skippedReason: string | null = null;
    if (ev.label === 'invalid') skippedReason = 'invalid-answer';
    else if (!ev.explained) skippedReason = ev.correct ? 'not-explained' : 'wrong-answer';
    else if (ev.skipReason) skippedReason = `self-explanation: ${ev.skipReason}`;
    else if (!ev.goldMask) skippedReason = 'not-scored';
    const alignment = ev.items ? { rule, unmatched: ev.unmatchedItems ?? [], accentFolded: ev.accentFoldedItems ?? [] } : null;
    if (ev.matchNote) rawOutputs.matchNote = ev.matchNote;
    return {
      rawOutputs,
      label: ev.label,
      correct: ev.correct,
      selfExplanation: ev.items ?? null,
      alignment,
      tokens,
      masks,
      relevance,
      skippedReason,
    };
  });

  const tx = writeTransaction(store.db, 'import-run', () => {
    const existing = store.datasets.list().find((d) => d.sourceSha256 === sha && d.name === parsed.name && d.format === parsed.format);
    const datasetId = existing ? existing.id : store.datasets.insert(parsed);
    const modelId = store.models.register({
      path: `imported:${model}`,
      sha256: createHash('sha256').update(`imported-model:${model}`).digest('hex'),
      fileSize: 0,
      metadata: { imported: true, name: model, shaIsFileHash: false, source: 'paper-responses', variant: names.variant },
    });
    const runId = store.runs.create({ studyId: opts.studyId, modelId, datasetId, seed, appVersion: opts.appVersion ?? 'import', total: records.length });
    const examples = store.datasets.examples(datasetId);
    if (examples.length !== records.length) throw new Error(`dataset ${datasetId} has ${examples.length} examples for ${records.length} lines`);
    examples.forEach((ex, i) => store.results.put(runId, ex.id, results[i]));
    return { datasetId, modelId, runId };
  });
  const ids = tx();
  const tokens = {
    tokenizer: decoding.tokenizer?.name ?? null,
    tokenizerPath: decoding.tokenizer?.path ?? null,
    decoded: decoding.byLine.size,
    withIds: decoding.withIds,
    notes: decoding.notes,
  };
  return { ...ids, file, model, seed, summary, notes: conventionNotes(summary), tokens };
}

const pct = (x: number) => `${x.toFixed(2)} %`;
const plaus = (p: PlausibilityFigures) => `F1 ${p.f1.toFixed(2)}, kappa ${p.kappa.toFixed(2)}, recall ${p.recall.toFixed(2)}, n ${p.n}`;

/**
 * The run's figures under the workbench's rule and, where it differs, under the paper's own convention,
 * side by side (the published figures are the latter). Empty when nothing differs.
 */
export function conventionNotes(s: WordLevelSummary): string[] {
  const notes: string[] = [];
  const invalid = s.examples.filter((e) => e.label === 'invalid').map((e) => e.line + 1);
  const pc = s.paperConvention;
  if (pc.correct !== s.correct) {
    notes.push(
      `accuracy ${pct(s.accuracy)} (${s.correct}/${s.total}) under the workbench's rule (an answer it cannot parse is invalid, never correct${invalid.length ? `: ${invalid.length} here, line ${invalid.join(', ')}` : ''}${s.rule === 'robust' ? '; answers read by its parser' : ''}); ` +
        `${pct(pc.accuracy)} (${pc.correct}/${s.total}) under the paper's convention (its normaliser reads every answer it cannot parse as negative)`,
    );
  }
  if (pc.plausibility && pc.plausibility.n !== s.n) {
    notes.push(
      `word-level human×self ${plaus(s)} under the workbench's rule (an invalid answer's self-explanation is not scored); ` +
        `${plaus(pc.plausibility)} under the paper's convention (scored like a correct one)`,
    );
  }
  return notes;
}
