/**
 * Word-level plausibility of the published runs, with the paper's matching rule or the robust one.
 *
 * Paper conventions (model_human_comparison.py, reproduced to the published two decimals):
 * - accuracy = correct / all lines (263), where the prediction is `paperNormalizeResponse(response_<i>)`
 *   (unparsable answers count as "negative"), compared with `true_label`;
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
import { paperNormalizeResponse, parseAnswer, type ParsedAnswer } from './answer';
import {
  paperNormalize,
  paperOverlapMask,
  paperGoldPhrases,
  paperAlignToRawWords,
  PaperRuleError,
  robustMatch,
} from './matching';
import { paperItems, robustItems, type PaperState } from './selfexplanation';
import type { PaperRecord } from './read';

export type MatchingRule = 'paper' | 'robust';

export interface ExampleEvaluation {
  line: number;
  /** Our parser's label. */
  prediction: ParsedAnswer;
  /** The paper's recomputed label (unparsable -> negative). */
  paperPrediction: 'positive' | 'negative';
  correct: boolean;
  explained: boolean;
  /** Set when the example has a self-explanation but could not be scored. */
  skipReason?: string;
  items?: string[];
  unmatchedItems?: string[];
  goldMask?: number[];
  predMask?: number[];
  f1?: number;
  kappa?: number;
  recall?: number;
  precision?: number;
}

export interface WordLevelSummary {
  rule: MatchingRule;
  total: number;
  /** 100 * correct / total. Paper rule: with the paper's answer parsing; robust: with ours (invalid = wrong). */
  accuracy: number;
  /** Answers our parser calls invalid (the paper silently counted them as negative). */
  invalidAnswers: number;
  n: number;
  skipped: number;
  skipReasons: Record<string, number>;
  f1: number;
  kappa: number;
  recall: number;
  precision: number;
  /** Examples whose kappa is undefined (left out of the kappa mean). */
  kappaUndefined: number;
  /** Items offered / matched (paper: verbatim substring; robust: after splitting). */
  itemsTotal: number;
  itemsMatched: number;
  examples: ExampleEvaluation[];
}

function nanMean(xs: number[]): number {
  return mean(xs.filter((x) => !Number.isNaN(x)));
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
    const correct = rule === 'paper' ? paperPrediction === r.goldLabel : prediction === r.goldLabel;
    const explained = r.rationales !== undefined || r.rationalesChecked !== undefined;
    const ev: ExampleEvaluation = { line: r.line, prediction, paperPrediction, correct, explained };
    examples.push(ev);
    if (!explained) continue;
    const rawWords = r.words.map((w) => w.text);
    let gold: number[];
    let pred: number[];
    if (rule === 'paper') {
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
      const m = robustMatch(rawWords, items);
      ev.items = [...m.matched, ...m.unmatched];
      ev.unmatchedItems = m.unmatched;
      itemsTotal += m.matched.length + m.unmatched.length;
      itemsMatched += m.matched.length;
      pred = m.mask;
      gold = [...r.goldWordMask];
    }
    const a = maskAgreement(gold, pred);
    Object.assign(ev, { goldMask: gold, predMask: pred, f1: a.f1, kappa: a.kappa, recall: a.recall, precision: a.precision });
  }
  const scored = examples.filter((e) => e.f1 !== undefined);
  return {
    rule,
    total: records.length,
    accuracy: (100 * examples.filter((e) => e.correct).length) / Math.max(records.length, 1),
    invalidAnswers: examples.filter((e) => e.prediction === 'invalid').length,
    n: scored.length,
    skipped,
    skipReasons,
    f1: mean(scored.map((e) => e.f1!)),
    kappa: nanMean(scored.map((e) => e.kappa!)),
    recall: mean(scored.map((e) => e.recall!)),
    precision: mean(scored.map((e) => e.precision!)),
    kappaUndefined: scored.filter((e) => Number.isNaN(e.kappa!)).length,
    itemsTotal,
    itemsMatched,
    examples,
  };
}
