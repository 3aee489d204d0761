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

/**
 * The glossary (Help, tooltips): what each term means to a domain expert and what a good figure looks like.
 * One table for the Glossary screen, the Results screen's headers and figures, the Inspector's headers and
 * the study form's method and metric choices. `metrics`/`methods` name the stored metric names and
 * explanation methods the entry explains, so a figure finds its tooltip by its stored name.
 */
export interface GlossaryEntry {
  /** Stable id (for links and tests). */
  id: string;
  term: string;
  /** What it is, in plain words. */
  meaning: string;
  /** What good looks like (the tooltip of each number says it). */
  good: string;
  /** Stored metric names this entry explains. */
  metrics?: readonly string[];
  /** Explanation methods (mask sources) this entry explains. */
  methods?: readonly string[];
}

export const GLOSSARY: readonly GlossaryEntry[] = [
  {
    id: 'plausibility-faithfulness',
    term: 'Plausibility vs faithfulness',
    meaning:
      'Two different questions about an explanation. Plausibility: do the words it points to agree with the words a human expert marked? Faithfulness: did those words actually drive the model’s answer (does the answer change when they are masked)? An explanation can convince a human and still not be what the model used.',
    good: 'A trustworthy explanation is both plausible (high κ, IOU F1, AUPRC against the human rationale) and faithful (high comprehensiveness, low sufficiency).',
  },
  {
    id: 'kappa',
    term: 'Cohen’s κ (kappa)',
    meaning: 'Agreement between two word (or token) selections — e.g. the human rationale and the model’s self-explanation — corrected for the agreement expected by chance.',
    good: '1 = perfect agreement, 0 = no better than chance, below 0 = worse than chance. Above 0.4 is moderate, above 0.6 substantial.',
    metrics: ['kappa'],
  },
  {
    id: 'f1',
    term: 'F1, precision, recall (word selections)',
    meaning: 'Word by word: precision is the share of the selected words that the reference marks too; recall the share of the reference’s words that were selected; F1 their harmonic mean.',
    good: '1 = the same words, 0 = no word in common.',
    metrics: ['f1', 'precision', 'recall'],
  },
  {
    id: 'iou-f1',
    term: 'IOU F1 (ERASER)',
    meaning: 'Span-level agreement as ERASER defines it: a predicted span counts as found when it overlaps a human span by at least half (intersection over union ≥ 0.5); IOU F1 combines the precision and recall of such matches.',
    good: '1 = every span found and nothing extra, 0 = no span matched.',
    metrics: ['iou-f1', 'iou-f1-per-example', 'iou-precision', 'iou-recall'],
  },
  {
    id: 'auprc',
    term: 'AUPRC (ERASER)',
    meaning: 'For scores over every token (LRP, occlusion): the area under the precision-recall curve against the human rationale — how well ranking tokens by the score finds the human’s words, without choosing a threshold.',
    good: '1 = the human’s words ranked first; about the share of marked tokens = random ranking.',
    metrics: ['auprc', 'average-precision'],
  },
  {
    id: 'comprehensiveness',
    term: 'Comprehensiveness',
    meaning: 'How much the probability of the model’s answer drops when the explanation’s words are removed from the text (ERASER).',
    good: 'Higher is more faithful: the answer depended on those words. Near 0 = removing them changed nothing; compare with the random baseline.',
    metrics: ['comprehensiveness', 'prob-drop'],
  },
  {
    id: 'sufficiency',
    term: 'Sufficiency',
    meaning: 'How much the probability of the model’s answer drops when ONLY the explanation’s words are kept (ERASER).',
    good: 'Lower is more faithful: those words alone were enough for the answer. Near 0 (or below) = sufficient; compare with the random baseline.',
    metrics: ['sufficiency'],
  },
  {
    id: 'aopc',
    term: 'AOPC (area over the perturbation curve)',
    meaning: 'Comprehensiveness or sufficiency averaged over several sizes of the removed/kept set (the top 1, 5, 10, 20 and 50 % of tokens by score), so no single size decides.',
    good: 'AOPC comprehensiveness: higher is better. AOPC sufficiency: lower is better. Compare with the random baseline.',
    metrics: ['aopc-comprehensiveness', 'aopc-sufficiency'],
  },
  {
    id: 'answer-probability',
    term: 'Answer probability after masking',
    meaning: 'The probability the model gives its original answer when the words of one explanation are masked (the paper’s faithfulness test). "unmasked" is the probability before masking.',
    good: 'A bigger drop from the unmasked probability means the masked words mattered more; a faithful explanation drops it more than the random baseline.',
    metrics: ['p'],
  },
  {
    id: 'k-greedy-flipping',
    term: 'k-greedy flipping (faithfulness curve over k)',
    meaning: 'The text’s tokens are replaced by a filler token k at a time, most relevant first by one explanation method, and the probability of the original answer is read after each step. The curve plots that probability against the share of the text replaced; its area (0 to 1) is the figure.',
    good: 'Lower = more faithful: the answer’s probability falls early when the tokens the method ranks first really mattered. Compare with the random baseline.',
    metrics: ['k-greedy-flipping'],
  },
  {
    id: 'lrp',
    term: 'LRP: CP-LRP and AttnLRP',
    meaning:
      'Layer-wise Relevance Propagation: traces the model’s answer back through its layers to a relevance score for every input token — a post-hoc explanation computed from the model’s internals, not asked of it. CP-LRP (conservative propagation) treats attention weights as constants; AttnLRP also propagates relevance through the attention. The contrastive variant explains the answer against the other option.',
    good: 'Not a score by itself: compared with the human rationale (κ, AUPRC) and tested by masking (comprehensiveness, sufficiency).',
    methods: ['lrp-cp', 'lrp-attn', 'lrp-contrast'],
  },
  {
    id: 'self-explanation',
    term: 'Self-explanation',
    meaning: 'The words the model names, when asked after its answer, as the ones that drove its decision.',
    good: 'Trustworthy when it is both plausible (agrees with the human rationale) and faithful (masking those words changes the answer).',
    methods: ['self'],
  },
  {
    id: 'human-rationale',
    term: 'Human rationale',
    meaning: 'The words a human annotator marked as the reason for the gold label; the reference for plausibility.',
    good: 'The reference itself: other explanations are compared with it.',
    methods: ['human'],
  },
  {
    id: 'random-baseline',
    term: 'Random baseline',
    meaning: 'Randomly chosen words (seeded, reproducible), as many as the other explanations select.',
    good: 'What chance looks like: an explanation method should beat it on every figure.',
    methods: ['random'],
  },
  {
    id: 'occlusion',
    term: 'Occlusion',
    meaning: 'A simple post-hoc explanation: each token of the text is masked in turn, and its score is how much the probability of the answer drops without it.',
    good: 'Like LRP, not a score by itself: compared with the human rationale and tested by masking; a useful check on LRP.',
    methods: ['occlusion'],
  },
  {
    id: 'relevance-share',
    term: 'Relevance share (where LRP relevance lands)',
    meaning: 'The share of an LRP explanation’s total relevance (absolute) on each part of the prompt: the text itself, the instructions, the answer options, the chat template.',
    good: 'Most of it on the text means the explanation is about the text; a large share on the template or options means the answer leaned on the prompt’s wording.',
    metrics: ['relevance-share'],
  },
  {
    id: 'interval',
    term: '95 % interval',
    meaning: 'The range the figure would plausibly fall in with other examples of the same kind: bootstrap over examples (1,000 resamples).',
    good: 'Narrow = a stable figure. Two figures whose intervals overlap widely are not clearly different.',
  },
];

const GLOSSARY_BY_ID = new Map(GLOSSARY.map((e) => [e.id, e]));
const GLOSSARY_BY_METRIC = new Map(GLOSSARY.flatMap((e) => (e.metrics ?? []).map((m) => [m, e] as const)));
const GLOSSARY_BY_METHOD = new Map(GLOSSARY.flatMap((e) => (e.methods ?? []).map((m) => [m, e] as const)));

export const glossaryEntry = (id: string): GlossaryEntry | undefined => GLOSSARY_BY_ID.get(id);
/** The entry explaining a stored metric name (kappa, comprehensiveness, ...), if any. */
export const metricGlossary = (name: string): GlossaryEntry | undefined => GLOSSARY_BY_METRIC.get(name);
/** The entry explaining an explanation method (lrp-cp, self, ...), if any. */
export const methodGlossary = (method: string): GlossaryEntry | undefined => GLOSSARY_BY_METHOD.get(method);

/** A tooltip: the term, what it means and what good looks like, on separate lines. */
export const glossaryTooltip = (e: GlossaryEntry): string => `${e.term}: ${e.meaning}\nGood: ${e.good}`;

/** A figure's tooltip: its definition when its name could mislead, and what good looks like. */
export function metricTooltip(name: string): string {
  const e = metricGlossary(name);
  const def = METRIC_DEFINITION[name];
  return [`${metricLabel(name)}${def ? ` — ${def}` : e ? ` — ${e.meaning}` : ''}`, e ? `Good: ${e.good}` : ''].filter(Boolean).join('\n');
}
