/**
 * Imports per-example results produced elsewhere (another tool, another machine) as a run of a study,
 * so the workbench can compare them with its own runs. One JSON object per line:
 *
 *   text            required string: the example's text, exactly as the model saw it
 *   label           required: the gold label (string/number, or a list for multi-label)
 *   prediction      required: the parsed answer; "invalid" for an unparsable one; null = not answered
 *   id              optional string/number (default: line number)
 *   language        optional ISO code (default: --language, else "en")
 *   rationale       optional human rationale: a 0/1 word mask, a list of words, or [start,end] spans
 *   selfExplanation optional list of strings: the model's self-explanation items (aligned here to words)
 *   tokens          optional model tokens: [{text, start, end, segment?}] (character offsets into `text`;
 *                   segment defaults to "text"), needed for token-level figures and relevances
 *   relevance       optional {method: [one float per token]} (e.g. {"lrp-cp": [...]})
 *   answerProb      optional probability of the answer token
 *   faithfulness    optional {p0, sets: {name: p after masking}} (the paper's masking test)
 *   skipped         optional reason the example was not evaluated (kept and counted)
 *
 * Self-explanation items are matched to the text by the workbench's one matching module
 * (main/protocol/align.ts: robust rule, or the study's `selfExplanation.matching`/`occurrences`); unmatched
 * and accent-folded items are kept and counted. Human and self token masks come from their word masks by
 * one rule (main/protocol/rationale-mask.ts). A prediction "invalid" is never correct and its
 * self-explanation is not scored (skip reason invalid-answer), as for runs made here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseRationale } from '../../datasets/generic';
import { DatasetError, type ParsedDataset, type ParsedExample } from '../../datasets/types';
import { splitWords } from '../../datasets/words';
import { goldLabel, goldRule, labelText, optionNamed, type GoldRule, type GoldTask } from '../../protocol/gold';
import { accentFoldNote, alignSelfExplanation, spansToMask, type MatchingRule, type Occurrences } from '../../protocol/align';
import { tokenMaskOfWords } from '../../protocol/rationale-mask';
import { writeTransaction, type ResultInput, type Store, type TokenInfo } from '../../store';

export interface ImportedLine {
  example: ParsedExample;
  result: ResultInput;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Parses and validates the whole file (no partial imports); errors name file, line and field. */
export function parseResultsJsonl(file: string, opts: { language?: string; matching?: MatchingRule; occurrences?: Occurrences; gold?: GoldRule } = {}): ImportedLine[] {
  const abs = resolve(file);
  let raw: string;
  try {
    raw = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new DatasetError(file, `cannot read (${(e as Error).message})`);
  }
  const out: ImportedLine[] = [];
  const ids = new Map<string, number>();
  // gold labels and predictions that are not options of the study's task: all listed at once, nothing stored
  const labelProblems: string[] = [];
  raw.split('\n').forEach((line, i) => {
    const row = i + 1;
    if (line.trim() === '') return;
    const fail = (field: string, detail: string): never => {
      throw new DatasetError(file, detail, row, field);
    };
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DatasetError(file, `not valid JSON (${(e as Error).message})`, row);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DatasetError(file, 'each line must be a JSON object', row);
    const text = v.text;
    if (typeof text !== 'string' || text.trim() === '') fail('text', 'required: a non-empty string');
    const t = text as string;
    const labelsRaw = v.label;
    if (labelsRaw === undefined || labelsRaw === null) fail('label', 'required (the gold label)');
    const labels = (Array.isArray(labelsRaw) ? labelsRaw : [labelsRaw]).map((x) =>
      typeof x === 'string' || isNum(x) || typeof x === 'boolean' ? String(x) : fail('label', `expected a string or number, got ${JSON.stringify(x)}`),
    );
    const id = v.id === undefined || v.id === null ? String(row) : typeof v.id === 'string' || isNum(v.id) ? String(v.id) : fail('id', 'expected a string or number');
    if (ids.has(id)) fail('id', `duplicate id "${id}" (also on line ${ids.get(id)})`);
    ids.set(id, row);
    const language = v.language === undefined ? (opts.language ?? 'en') : typeof v.language === 'string' ? v.language : fail('language', 'expected a string');
    const words = splitWords(t);
    const rat = parseRationale(v.rationale, t, words, (d) => fail('rationale', d));
    const example: ParsedExample = {
      externalId: id,
      text: t,
      language,
      labels,
      words,
      rationaleMask: rat?.mask ?? null,
      rationaleSpans: rat?.spans ?? [],
    };

    const pred = v.prediction;
    if (pred === undefined) fail('prediction', 'required (the parsed answer, "invalid", or null when not answered)');
    if (pred !== null && typeof pred !== 'string' && !isNum(pred)) fail('prediction', `expected a string, number or null, got ${JSON.stringify(pred)}`);
    let label = pred === null ? null : String(pred);
    const given = v.skipped === undefined || v.skipped === null ? null : typeof v.skipped === 'string' && v.skipped ? v.skipped : fail('skipped', 'expected a non-empty string (the reason)');
    // the study's task decides what the gold labels stand for (protocol/gold.ts, as for runs made here), and a
    // prediction must name one of its options (compared as gold labels are) or be "invalid"
    let gold: string | null = null;
    let excluded = false;
    if (opts.gold) {
      const g = goldLabel(labels, opts.gold);
      if (g.status === 'unmapped') labelProblems.push(`row ${row}, field "label": ${labelText(g.value)} ${g.reason}`);
      else if (g.status === 'excluded') excluded = true;
      else gold = g.label;
      if (label !== null && label !== 'invalid') {
        const option = optionNamed(label, opts.gold.options);
        if (option === undefined) labelProblems.push(`row ${row}, field "prediction": ${labelText(label)} is not an option of the task (${opts.gold.options.join(', ')}) nor "invalid"`);
        else label = option;
      }
    }
    // the one rule for invalid answers: never correct, self-explanation not scored
    const skipped = given ?? (excluded ? 'excluded-label' : label === 'invalid' ? 'invalid-answer' : null);
    if (label === null && !skipped) fail('prediction', 'null (not answered) needs a "skipped" reason');

    let tokens: TokenInfo[] | null = null;
    if (v.tokens !== undefined && v.tokens !== null) {
      if (!Array.isArray(v.tokens)) fail('tokens', 'expected a list of {text, start, end, segment?}');
      tokens = (v.tokens as unknown[]).map((tk, k) => {
        const o = tk as Record<string, unknown>;
        if (!o || typeof o !== 'object' || !isNum(o.start) || !isNum(o.end) || o.start < 0 || o.end < o.start || o.end > t.length) {
          return fail('tokens', `token ${k + 1} needs numeric start <= end within the text (0..${t.length})`);
        }
        return {
          id: isNum(o.id) ? o.id : -1,
          text: typeof o.text === 'string' ? o.text : t.slice(o.start, o.end),
          start: o.start,
          end: o.end,
          segment: typeof o.segment === 'string' ? o.segment : 'text',
        };
      });
    }
    const masks: Record<string, number[]> = {};
    if (example.rationaleMask) masks['human/word'] = example.rationaleMask;
    let selfExplanation: string[] | null = null;
    let alignment: unknown = null;
    let matchNote: string | null = null;
    if (v.selfExplanation !== undefined && v.selfExplanation !== null) {
      if (!Array.isArray(v.selfExplanation) || v.selfExplanation.some((x) => typeof x !== 'string')) {
        fail('selfExplanation', 'expected a list of strings');
      }
      selfExplanation = v.selfExplanation as string[];
      const al = alignSelfExplanation(t, selfExplanation, { rule: opts.matching, occurrences: opts.occurrences });
      masks['self/word'] = spansToMask(words, al.matched);
      alignment = al;
      const note = accentFoldNote(al);
      if (note) matchNote = note;
    }
    const relevance: ResultInput['relevance'] = [];
    if (v.relevance !== undefined && v.relevance !== null) {
      if (typeof v.relevance !== 'object' || Array.isArray(v.relevance)) fail('relevance', 'expected {method: [floats]}');
      if (!tokens) fail('relevance', 'needs "tokens" (one relevance per token)');
      for (const [method, vals] of Object.entries(v.relevance as Record<string, unknown>)) {
        if (!Array.isArray(vals) || vals.length !== tokens!.length || vals.some((x) => !isNum(x))) {
          fail('relevance', `"${method}" must be ${tokens!.length} finite numbers (one per token)`);
        }
        relevance.push({ method, values: vals as number[] });
      }
    }
    if (tokens) {
      const spans = tokens.map((tk) => (tk.segment === 'text' ? tk : { start: -1, end: -1 }));
      for (const src of ['human', 'self']) {
        const wm = masks[`${src}/word`];
        if (wm) masks[`${src}/token`] = tokenMaskOfWords(t, words, wm, spans);
      }
    }
    let rawOutputs: Record<string, unknown> = { imported: basename(file), line: row, ...(matchNote ? { matchNote } : {}) };
    if (v.faithfulness !== undefined && v.faithfulness !== null) {
      const f = v.faithfulness as Record<string, unknown>;
      if (typeof f !== 'object' || !isNum(f.p0)) fail('faithfulness', 'expected {p0: number, sets: {name: number}}');
      const sets = (f.sets ?? {}) as Record<string, unknown>;
      for (const [k, p] of Object.entries(sets)) if (!isNum(p) || p < 0 || p > 1) fail('faithfulness', `sets.${k} must be a probability`);
      rawOutputs = { ...rawOutputs, faithfulness: { p0: f.p0, sets } };
    }
    const answerProb = v.answerProb === undefined || v.answerProb === null ? null : isNum(v.answerProb) ? v.answerProb : fail('answerProb', 'expected a number');
    out.push({
      example,
      result: {
        rawOutputs,
        label,
        correct: label === null || excluded ? null : label !== 'invalid' && (opts.gold ? label === gold : labels.includes(label)),
        answerProb,
        selfExplanation,
        alignment,
        tokens,
        masks,
        skippedReason: skipped,
        relevance,
      },
    });
  });
  if (labelProblems.length) throw new DatasetError(file, `${labelProblems.length} value(s) do not fit the study's task (map gold labels in its task.labelMap): ${labelProblems.join('; ')}`);
  if (out.length === 0) throw new DatasetError(file, 'the file has no results');
  return out;
}

export interface ImportRunOptions {
  studyId: number;
  /** Model name shown in reports (default: the file name). */
  model?: string;
  modelSha256?: string;
  seed?: number;
  language?: string;
  appVersion?: string;
  /** The study's selfExplanation.matching / occurrences (default: robust, first). */
  matching?: MatchingRule;
  occurrences?: Occurrences;
}

/** Stores the file as a dataset, a model record and a finished run of the study; returns the run id. */
export function importJsonlRun(store: Store, file: string, opts: ImportRunOptions): { runId: number; datasetId: number; modelId: number; lines: ImportedLine[] } {
  const study = store.studies.get(opts.studyId);
  if (!study) throw new Error(`study ${opts.studyId} does not exist`);
  // the study's matching settings, as a run of it made here would use them
  const se = (study.config as { selfExplanation?: { matching?: MatchingRule; occurrences?: Occurrences } }).selfExplanation;
  const task = (study.config as { task: GoldTask }).task;
  const lines = parseResultsJsonl(file, { language: opts.language, matching: opts.matching ?? se?.matching, occurrences: opts.occurrences ?? se?.occurrences, gold: goldRule(task) });
  const bytes = readFileSync(resolve(file));
  const fileSha = createHash('sha256').update(bytes).digest('hex');
  const langs = [...new Set(lines.map((l) => l.example.language))];
  const parsed: ParsedDataset = {
    name: `${basename(file)} (imported)`,
    format: 'jsonl',
    sourcePath: resolve(file),
    sourceSha256: fileSha,
    language: langs.length === 1 ? langs[0] : null,
    labelSet: [...new Set(lines.flatMap((l) => l.example.labels))].sort(),
    examples: lines.map((l) => l.example),
  };
  const modelName = opts.model ?? basename(file).replace(/\.jsonl$/, '');
  // Imported results have no local model file: the sha256 is the one given, else a hash of the name
  // (metadata.imported says so), so two imports of the same model share one record.
  const sha = opts.modelSha256 ?? createHash('sha256').update(`imported-model:${modelName}`).digest('hex');
  const tx = writeTransaction(store.db, 'import-run', () => {
    const datasetId = store.datasets.insert(parsed);
    const modelId = store.models.register({
      path: `imported:${modelName}`,
      sha256: sha,
      fileSize: 0,
      metadata: { imported: true, name: modelName, shaIsFileHash: opts.modelSha256 !== undefined },
    });
    const runId = store.runs.create({
      studyId: opts.studyId,
      modelId,
      datasetId,
      seed: opts.seed ?? 0,
      appVersion: opts.appVersion ?? 'import',
      total: lines.length,
    });
    return { datasetId, modelId, runId };
  });
  const ids = tx();
  const examples = store.datasets.examples(ids.datasetId);
  examples.forEach((ex, i) => store.results.put(ids.runId, ex.id, lines[i].result));
  return { ...ids, lines };
}
