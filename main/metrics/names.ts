/**
 * Metric, method and pair names as a reader sees them, one table for the PDF/HTML report (main/reports) and
 * the GUI (renderer): a figure carries the same name on every screen and page. ERASER's figures say so;
 * figures under another definition say they are not ERASER's (main/metrics/plausibility.ts has the
 * definitions, the report's Method section states them).
 * Kept free of imports so the renderer can bundle it without Node code.
 */

/** Stored metric name -> label. Names missing here are shown as stored. */
export const METRIC_LABEL: Readonly<Record<string, string>> = {
  accuracy: 'accuracy',
  'invalid-rate': 'invalid answers (rate)',
  kappa: 'kappa',
  f1: 'F1',
  precision: 'precision',
  recall: 'recall',
  'iou-f1': 'IOU F1 (ERASER)',
  'iou-f1-per-example': 'IOU F1, mean per example (not ERASER)',
  'iou-precision': 'IOU precision (ERASER)',
  'iou-recall': 'IOU recall (ERASER)',
  auprc: 'AUPRC (ERASER)',
  'average-precision': 'average precision (not ERASER)',
  'k-greedy-flipping': 'k-greedy flipping (area)',
};

/** One line per metric whose name alone could mislead: what it is (tooltips, captions). */
export const METRIC_DEFINITION: Readonly<Record<string, string>> = {
  'iou-f1': 'ERASER’s IOU F1: the F1 of the mean partial-match precision and the mean partial-match recall (a predicted span matches a gold span at IOU ≥ 0.5)',
  'iou-f1-per-example': 'the mean of per-example IOU F1s; not ERASER’s IOU F1',
  'iou-precision': 'ERASER’s partial-match precision (matched / predicted spans), mean over examples with a predicted span',
  'iou-recall': 'ERASER’s partial-match recall (matched / gold spans), mean over examples with a gold span',
  auprc: 'ERASER’s AUPRC: trapezoid area under the precision-recall curve, mean over examples with a human rationale',
  'average-precision': 'scikit-learn’s average precision (step-wise sum); not ERASER’s AUPRC',
  'k-greedy-flipping': 'area under the probability of the answer while the text’s tokens are replaced by the filler, k at a time, most relevant first (x: share of the text replaced); lower = more faithful',
  'invalid-rate': 'share of answers that name none of the task’s options; an invalid answer counts as wrong and is not scored for plausibility',
};

/** Explanation method / mask source -> label. */
export const METHOD_LABEL: Readonly<Record<string, string>> = {
  self: 'self-explanation',
  'lrp-cp': 'LRP (cp)',
  'lrp-attn': 'LRP (attn)',
  'lrp-contrast': 'LRP contrast',
  occlusion: 'occlusion',
  random: 'random',
  human: 'human',
};

export const metricLabel = (name: string): string => METRIC_LABEL[name] ?? name;
export const methodLabel = (method: string): string => METHOD_LABEL[method] ?? method;
/** "human×self" -> "human × self-explanation". */
export const pairLabel = (pair: string): string => pair.split('×').map(methodLabel).join(' × ');

/** How a model's figures pooled over its seeds are labelled, e.g. "pooled over seeds 28, 79, 96". */
export const pooledLabel = (seeds: readonly number[]): string => `pooled over seeds ${seeds.join(', ')}`;
