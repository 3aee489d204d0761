/**
 * Word-level plausibility of the published runs, with the paper's matching rule or the robust one, under
 * the workbench's one rule for invalid answers, and the paper's own convention beside it.
 *
 * The workbench's rule (every run, made here or imported): an answer the workbench's parser cannot read
 * (main/protocol/parse.ts) is `invalid`: never correct, and its self-explanation is not scored for
 * plausibility. Otherwise the answer is read by the chosen rule: 'paper' takes the paper's normaliser
 * (so the 27 Llama-2 answers it misreads stay as the paper read them), 'robust' takes ours.
 *
 * The paper's convention (model_human_comparison.py, reproduced to the published two decimals) differs
 * only for invalid answers: its normaliser's always-true branch reads them as "negative", counts them
 * correct when the gold label is negative, and scores their self-explanations (Llama-2 seed 28: one refusal,
 * line 108). `paperConvention` holds those figures:
 * - accuracy = correct / all lines (263), the prediction being `paperNormalizeResponse(response_<i>)`;
 * - only lines with a self-explanation field are evaluated (the correct answers);
 * - the gold mask is NOT taken from `gold_label_rationales` directly: its contiguous runs are joined
 *   into phrases and matched back with the same substring rule (first occurrence), like the model's items;
 * - F1 and recall as sklearn (0 on zero division), averaged over evaluated examples;
 * - kappa as sklearn `cohen_kappa_score`, averaged with `np.nanmean` (undefined kappa, both masks
 *   constant and equal, is left out of the mean but the example still counts in n, F1 and recall);
 * - `skipped` is the reference counter: +1 per example whose self-explanation fails to parse or raises,
 *   +1 per `rationales` value that is neither string nor list (the example still counts);
 * - `n` = examples that reached scoring; alignment failures are counted apart (none occur in seed 28).
 */
import { maskAgreement } from '../../metrics/plausibility';
import { mean } from '../../metrics/bootstrap';
import { accentFoldNote, alignSelfExplanation, spansToMask, type MatchingRule } from '../../protocol/align';
import { paperNormalize, paperOverlapMask, paperGoldPhrases, paperAlignToRawWords, PaperRuleError } from '../../protocol/align-paper';
import { paperNormalizeResponse, parseAnswer, type ParsedAnswer, type SstLabel } from './answer';
import { paperItems, robustItems, type PaperState } from './selfexplanation';
import type { PaperRecord } from './read';

export type { MatchingRule } from '../../protocol/align';

export interface ExampleEvaluation {
  line: number;
  /** The workbench parser's reading. */
  prediction: ParsedAnswer;
  /** The paper's recomputed label (unparsable -> negative). */
  paperPrediction: SstLabel;
  /** The stored label: 'invalid' when our parser says so, else the chosen rule's reading. */
  label: ParsedAnswer;
  /** Under the workbench's rule: label === gold (an invalid answer is never correct). */
  correct: boolean;
  /** Under the paper's convention: paperPrediction === gold. */
  paperCorrect: boolean;
  explained: boolean;
  /** Set when the example has a self-explanation but could not be scored. */
  skipReason?: string;
  items?: string[];
  unmatchedItems?: string[];
  /** Items matched only with accents ignored (robust rule's fallback). */
  accentFoldedItems?: string[];
  /** Says which items matched only with accents ignored, and onto what (accentFoldNote). */
  matchNote?: string;
  goldMask?: number[];
  predMask?: number[];
  f1?: number;
  kappa?: number;
  recall?: number;
  precision?: number;
}

export interface PlausibilityFigures {
  n: number;
  f1: number;
  kappa: number;
  recall: number;
  precision: number;
  /** Examples whose kappa is undefined (left out of the kappa mean). */
  kappaUndefined: number;
}

export interface WordLevelSummary extends PlausibilityFigures {
  rule: MatchingRule;
  total: number;
  /** 100 * correct / total under the workbench's rule (invalid = not correct). */
  accuracy: number;
  correct: number;
  /** Answers our parser calls invalid (the paper silently read them as negative). */
  invalidAnswers: number;
  /** The paper's skip counter (see the module comment). */
  skipped: number;
  skipReasons: Record<string, number>;
  /** Items offered / matched (paper: verbatim substring; robust: after splitting). */
  itemsTotal: number;
  itemsMatched: number;
  /**
   * The same run under the paper's convention for invalid answers (read as negative, counted correct when
   * gold is negative, self-explanations scored). Plausibility only under the paper's matching rule (with the
   * robust rule the figures are the workbench's throughout).
   */
  paperConvention: { accuracy: number; correct: number; plausibility: PlausibilityFigures | null };
  examples: ExampleEvaluation[];
}

function nanMean(xs: number[]): number {
  return mean(xs.filter((x) => !Number.isNaN(x)));
}

function figures(scored: readonly ExampleEvaluation[]): PlausibilityFigures {
  return {
    n: scored.length,
    f1: mean(scored.map((e) => e.f1!)),
    kappa: nanMean(scored.map((e) => e.kappa!)),
    recall: mean(scored.map((e) => e.recall!)),
    precision: mean(scored.map((e) => e.precision!)),
    kappaUndefined: scored.filter((e) => Number.isNaN(e.kappa!)).length,
  };
}

export function evaluateWordLevel(records: readonly PaperRecord[], rule: MatchingRule): WordLevelSummary {
  const state: PaperState = {};
  const examples: ExampleEvaluation[] = [];
  let skipped = 0;
  const skipReasons: Record<string, number> = {};
  let itemsTotal = 0;
  let itemsMatched = 0;
  const bump = (r: string): void => {
    skipReasons[r] = (skipReasons[r] ?? 0) + 1;
  };
  for (const r of records) {
    const prediction = parseAnswer(r.response);
    const paperPrediction = paperNormalizeResponse(r.response) === 1 ? 'positive' : 'negative';
    const label: ParsedAnswer = prediction === 'invalid' ? 'invalid' : rule === 'paper' ? paperPrediction : prediction;
    const explained = r.rationales !== undefined || r.rationalesChecked !== undefined;
    const ev: ExampleEvaluation = { line: r.line, prediction, paperPrediction, label, correct: label === r.goldLabel, paperCorrect: paperPrediction === r.goldLabel, explained };
    examples.push(ev);
    if (!explained) continue;
    const rawWords = r.words.map((w) => w.text);
    let gold: number[];
    let pred: number[];
    if (rule === 'paper') {
      // the reference's replay: items and skips as its control flow gives them (its state runs across lines)
      const res = paperItems({ rationales: r.rationales, rationales_checked: r.rationalesChecked }, state);
      skipped += res.itemSkips;
      if (!res.ok) {
        ev.skipReason = res.reason;
        bump(res.reason);
        continue;
      }
      ev.items = res.items;
      try {
        const nWords = paperNormalize(r.text).split(' ').length;
        let predNorm = new Array<number>(nWords).fill(0);
        const unmatched: string[] = [];
        for (const it of res.items) {
          itemsTotal++;
          const m = paperOverlapMask(r.text, it);
          if (m) {
            itemsMatched++;
            predNorm = predNorm.map((v, i) => v + m[i]);
          } else unmatched.push(it);
        }
        ev.unmatchedItems = unmatched;
        let goldNorm = new Array<number>(nWords).fill(0);
        for (const phrase of paperGoldPhrases(r.goldWordMask, rawWords)) {
          const m = paperOverlapMask(r.text, phrase);
          if (!m) throw new PaperRuleError('TypeError', `gold phrase "${phrase}" not found (None + array)`);
          goldNorm = goldNorm.map((v, i) => v + m[i]);
        }
        const clip = (xs: number[]): number[] => xs.map((v) => (v > 0 ? 1 : 0));
        pred = clip(paperAlignToRawWords(rawWords, clip(predNorm)));
        gold = clip(paperAlignToRawWords(rawWords, clip(goldNorm)));
      } catch (e) {
        if (!(e instanceof PaperRuleError)) throw e;
        ev.skipReason = e.reason;
        bump(e.reason);
        // alignment failures are a separate counter in the reference code; everything else is `skip`
        if (e.reason !== 'align') skipped++;
        continue;
      }
    } else {
      const { items } = robustItems({ rationales: r.rationales, rationales_checked: r.rationalesChecked });
      if (items.length === 0) {
        ev.skipReason = 'unparsable-self-explanation';
        bump(ev.skipReason);
        skipped++;
        continue;
      }
      const al = alignSelfExplanation(r.text, items, { rule: 'robust' });
      ev.items = al.items;
      ev.unmatchedItems = al.unmatched;
      if (al.accentFolded.length) {
        ev.accentFoldedItems = al.accentFolded;
        ev.matchNote = accentFoldNote(al)!;
      }
      itemsTotal += al.items.length;
      itemsMatched += al.items.length - al.unmatched.length;
      pred = spansToMask(r.words, al.matched);
      gold = [...r.goldWordMask];
    }
    const a = maskAgreement(gold, pred);
    Object.assign(ev, { goldMask: gold, predMask: pred, f1: a.f1, kappa: a.kappa, recall: a.recall, precision: a.precision });
  }
  const scored = examples.filter((e) => e.f1 !== undefined);
  const correct = examples.filter((e) => e.correct).length;
  const paperCorrect = examples.filter((e) => e.paperCorrect).length;
  const total = Math.max(records.length, 1);
  return {
    rule,
    total: records.length,
    accuracy: (100 * correct) / total,
    correct,
    invalidAnswers: examples.filter((e) => e.prediction === 'invalid').length,
    // the workbench's rule: an invalid answer's self-explanation is not scored
    ...figures(scored.filter((e) => e.label !== 'invalid')),
    skipped,
    skipReasons,
    itemsTotal,
    itemsMatched,
    paperConvention: { accuracy: (100 * paperCorrect) / total, correct: paperCorrect, plausibility: rule === 'paper' ? figures(scored) : null },
    examples,
  };
}
