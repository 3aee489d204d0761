/**
 * A run in ERASER's format (format.ts): the dataset (docs.jsonl, the examples' human rationales as
 * evidences in test.jsonl: the run's "human/word" mask, else the dataset's rationale) and one prediction file per explanation method that has a word mask
 * (hard rationale = the method's word mask, soft = its relevance pooled to words by maximum, or the mask
 * itself for the self-explanation).
 *
 * ERASER's classification scores are here the answer tokens' probabilities (optionProbs); under masking
 * the workbench reads the predicted answer's probability only, so the comprehensiveness and sufficiency
 * scores (and the thresholded ones, from the AOPC steps) name the predicted class alone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aopc, tokenScoresToWordScores } from '../../metrics';
import { positionsKey } from '../../protocol/mask';
import type { ExampleRow, ExportData, RunLine } from '../../reports/exports';
import { documentOf, maskRuns, type EraserAnnotation, type EraserDoc, type EraserPrediction, type EraserThresholdedScore } from './format';

export interface EraserExport {
  docs: EraserDoc[];
  annotations: EraserAnnotation[];
  /** By method (human, self, lrp-cp, occlusion, random, ...). */
  predictions: Record<string, EraserPrediction[]>;
}

/** What the run asked, as ERASER's query (the workbench's prompt is not a single query string). */
function queryOf(run: RunLine): string {
  const task = (run.study.config as { task?: { kind?: string; indicator?: string; labels?: string[] } } | null)?.task;
  if (!task?.kind) return '';
  if (task.kind === 'forced-labour') return `forced-labour indicator: ${task.indicator}`;
  if (task.kind === 'custom') return `custom: ${(task.labels ?? []).join(' | ')}`;
  return task.kind;
}

const sel = (mask: readonly number[]) => mask.flatMap((v, i) => (v === 1 ? [i] : []));

/** ERASER files of one run's exported rows. */
export async function toEraser(run: RunLine, rows: readonly ExampleRow[]): Promise<EraserExport> {
  const docs: EraserDoc[] = [];
  const annotations: EraserAnnotation[] = [];
  const predictions: Record<string, EraserPrediction[]> = {};
  const query = queryOf(run);
  for (const r of rows) {
    const docid = r.externalId;
    docs.push({ docid, document: documentOf(r.text, r.words) });
    // the run's human rationale (the part its task uses, e.g. one forced-labour indicator's spans); the
    // dataset's where the run stored none (a skipped example)
    const human = r.masks?.['human/word'] ?? r.rationale.mask;
    annotations.push({
      annotation_id: docid,
      query,
      evidences: (human ? maskRuns(human) : []).map((run) => [{
        text: r.words.slice(run.start_token, run.end_token).map((w) => w.text).join(' '),
        docid,
        start_token: run.start_token,
        end_token: run.end_token,
        start_sentence: -1,
        end_sentence: -1,
      }]),
      // the gold answer under the run's task (a forced-labour study's is yes/no, not the indicator names)
      classification: r.taskGold ?? r.gold[0] ?? '',
      query_type: null,
      docids: [docid],
    });
    if (!r.prediction || r.prediction === 'invalid' || !r.masks) continue;
    const tokens = r.tokens ?? [];
    const textPos = tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
    const spans = tokens.map((t) => (t.segment === 'text' ? { start: t.start, end: t.end } : { start: -1, end: -1 }));
    const readouts = r.maskedProbs ?? {};
    const read = (positions: number[]) => readouts[positionsKey(positions)];
    const pred = r.prediction;
    for (const [name, wordMask] of Object.entries(r.masks)) {
      if (!name.endsWith('/word')) continue;
      const method = name.slice(0, -'/word'.length);
      const tokenMask = r.masks[`${method}/token`];
      const rel = r.relevance[method];
      const soft = rel ? tokenScoresToWordScores(rel.values, spans, r.words) : wordMask.map(Number);
      const p: EraserPrediction = {
        annotation_id: docid,
        rationales: [{ docid, hard_rationale_predictions: maskRuns(wordMask), soft_rationale_predictions: soft }],
        classification: pred,
        classification_scores: r.optionProbs ?? (r.answerProb !== null ? { [pred]: r.answerProb } : {}),
      };
      if (tokenMask) {
        const kept = new Set(sel(tokenMask));
        const comp = read(sel(tokenMask));
        const suff = read(textPos.filter((i) => !kept.has(i)));
        if (comp !== undefined) p.comprehensiveness_classification_scores = { [pred]: comp };
        if (suff !== undefined) p.sufficiency_classification_scores = { [pred]: suff };
      }
      const thresholded = rel && r.answerProb !== null ? await thresholdedScores(rel.values, textPos, read, r.answerProb, pred) : null;
      if (thresholded) p.thresholded_scores = thresholded;
      (predictions[method] ??= []).push(p);
    }
  }
  return { docs, annotations, predictions };
}

/**
 * ERASER's thresholded scores from the AOPC steps the run read: the bins' masked sets are asked of
 * main/metrics' aopc (so the bins and ranking are its own), answered from the readouts; null when the
 * run did not read them.
 */
async function thresholdedScores(scores: readonly number[], textPos: number[], read: (p: number[]) => number | undefined, p0: number, pred: string): Promise<EraserThresholdedScore[] | null> {
  const probs: Record<'comprehensiveness' | 'sufficiency', number[]> = { comprehensiveness: [], sufficiency: [] };
  let missing = false;
  const bins: number[] = [];
  for (const kind of ['comprehensiveness', 'sufficiency'] as const) {
    const res = await aopc(kind, scores, textPos, async (positions) => {
      const p = read(positions);
      if (p === undefined) missing = true;
      probs[kind].push(p ?? 0);
      return p ?? 0;
    }, { p0 });
    if (kind === 'comprehensiveness') bins.push(...res.bins.map((b) => b.percent / 100));
  }
  if (missing) return null;
  return bins.map((threshold, i) => ({
    threshold,
    comprehensiveness_classification_scores: { [pred]: probs.comprehensiveness[i] },
    sufficiency_classification_scores: { [pred]: probs.sufficiency[i] },
  }));
}

const jsonl = (xs: readonly unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n') + (xs.length ? '\n' : '');

/** Writes one run's ERASER files into `dir`: docs.jsonl, test.jsonl, predictions.<method>.jsonl. Returns the file names. */
export async function writeEraser(data: ExportData, dir: string): Promise<string[]> {
  if (data.runs.length !== 1) throw new Error(`an ERASER export holds one run (its dataset and predictions), got ${data.runs.length}`);
  const run = data.runs[0];
  const e = await toEraser(run, data.rows.filter((r) => r.runId === run.runId));
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [['docs.jsonl', jsonl(e.docs)], ['test.jsonl', jsonl(e.annotations)]];
  for (const [method, preds] of Object.entries(e.predictions)) files.push([`predictions.${method}.jsonl`, jsonl(preds)]);
  for (const [name, body] of files) writeFileSync(join(dir, name), body);
  return files.map(([n]) => n);
}
