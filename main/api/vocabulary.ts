/**
 * The study vocabulary the renderer shows and the schema accepts: one list each, here, in the API
 * contract (main/config/study-schema.ts builds its enums from these). Pure data, no imports of Node
 * code, so the renderer bundles it; the form's choices never drift from what the schema accepts.
 */
export const TASK_KINDS = ['sentiment', 'forced-labour', 'claim-verification', 'custom'] as const;
export const MODEL_MODES = ['paper', 'constrained', 'scoring'] as const;
export const EXPLANATION_METHODS = ['human', 'self', 'lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random'] as const;
export const BINARISATIONS = ['top-k-human', 'fixed-k', 'top-p', 'one-over-n'] as const;
export const METRICS = [
  'accuracy',
  'invalid-rate',
  'kappa',
  'f1',
  'precision',
  'recall',
  'iou-f1',
  'auprc',
  'prob-drop',
  'comprehensiveness',
  'sufficiency',
  'aopc-comprehensiveness',
  'aopc-sufficiency',
  'relevance-share',
  'k-greedy-flipping',
] as const;

/** Defaults the schema fills and the form starts from. Paper: human, self-explanation, LRP and contrastive LRP, against a random baseline. */
export const DEFAULT_EXPLANATIONS = ['human', 'self', 'lrp-cp', 'lrp-contrast', 'random'] as const;
export const DEFAULT_METRICS: (typeof METRICS)[number][] = ['accuracy', 'invalid-rate', 'kappa', 'f1', 'recall', 'prob-drop'];
export const DEFAULT_SEEDS = [28, 79, 96];
/**
 * k-greedy flipping (metrics/flipping.ts): text tokens flipped per step when the study says k: 'task'.
 * The study's final version: k = 1 for sentiment, k = 3 for the longer RaFoLa (forced labour) and
 * Climate-FEVER texts; a custom task starts at 1.
 */
export const FLIPPING_K_BY_TASK: Readonly<Record<(typeof TASK_KINDS)[number], number>> = { sentiment: 1, 'forced-labour': 3, 'claim-verification': 3, custom: 1 };

/**
 * Self-consistency tests (main/protocol/self-consistency.ts; study config `selfConsistency`, default none):
 * redaction and counterfactual (Madsen et al. 2024, arXiv 2401.07927), a biasing feature (Turpin et al.
 * 2023, arXiv 2305.04388). Each asks the local model again, per example.
 */
export const SELF_CONSISTENCY_TESTS = ['redaction', 'counterfactual', 'biasing'] as const;
export type SelfConsistencyTest = (typeof SELF_CONSISTENCY_TESTS)[number];
// How the report and the Inspector name the tests and their figures (pure data, metrics/self-consistency.ts).
export { SELF_CONSISTENCY_METRIC_LABEL, SELF_CONSISTENCY_TEST_LABEL } from '../metrics/self-consistency';

export type TaskKind = (typeof TASK_KINDS)[number];
export type ExplanationMethod = (typeof EXPLANATION_METHODS)[number];
export type MetricName = (typeof METRICS)[number];
export type Binarisation = (typeof BINARISATIONS)[number];

// Display names and definitions of metrics and methods, and the ILO indicator list: defined where the
// engine uses them, part of the contract the renderer sees.
export { METRIC_LABEL, METRIC_DEFINITION, METHOD_LABEL, metricLabel, methodLabel, pairLabel, pooledLabel } from '../metrics/names';
// The glossary (Help screen and tooltips; issue 12 item 12).
export { GLOSSARY, glossaryEntry, glossaryTooltip, metricGlossary, methodGlossary, metricTooltip, type GlossaryEntry } from '../metrics/names';
export { ILO_INDICATORS, iloIndicator, iloNumber, indicatorNamed, indicatorTitle, type IndicatorName } from '../protocol/indicators';

/** What a study does with a text too long for a model's context (limits.tooLong): leave it out, or cut it to fit. */
export const TOO_LONG_CHOICES = ['skip', 'truncate'] as const;
