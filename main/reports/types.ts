/**
 * The typed input of a report. Everything the HTML shows comes from here, so a report can be built from a
 * stored run (build.ts), from an imported run, or by a test, and rendered the same way.
 */

/** A mean with its bootstrap 95 % interval; null value = undefined (e.g. no examples). */
export interface Estimate {
  value: number | null;
  ciLow?: number | null;
  ciHigh?: number | null;
  n?: number | null;
}

export interface ReportModel {
  /** Short name shown in tables and heatmap columns. */
  name: string;
  path: string;
  sha256: string;
  architecture?: string | null;
  parameterCount?: number | null;
  quantization?: string | null;
  contextLength?: number | null;
}

export interface ReportDataset {
  name: string;
  format: string;
  language: string | null;
  sourcePath: string;
  sha256: string;
  examples: number;
  withRationale: number;
}

export interface ReportRun {
  id: number;
  model: string;
  dataset: string;
  seed: number;
  status: string;
  done: number;
  total: number;
  /** Skipped examples by reason (invalid answer, wrong answer, too long, ...). */
  skipped: Record<string, number>;
  /** Accuracy over answered examples, when known. */
  accuracy?: Estimate | null;
}

/** A table of estimates: rows x columns. */
export interface MetricTable {
  title: string;
  caption?: string;
  columns: string[];
  rows: { label: string; cells: (Estimate | null)[] }[];
}

/** The paper's plausibility figure: one cell per (pair of sources, model column). */
export interface PlausibilityHeatmap {
  title: string;
  metric: string;
  /** e.g. "human × self", "human × LRP". */
  rows: string[];
  /** e.g. model names, or "model / seed". */
  columns: string[];
  /** values[row][column]. */
  values: (Estimate | null)[][];
  /** Colour scale domain; kappa defaults to [-0.2, 1]. */
  domain?: [number, number];
}

/** Faithfulness bars for one model (or model x seed): probability of the original answer after masking each set. */
export interface FaithfulnessGroup {
  label: string;
  /** Probability of the original answer token before masking (p0). */
  unmasked: Estimate;
  bars: { set: string; value: Estimate }[];
}

/**
 * k-greedy flipping curves of one run (metrics/flipping.ts): per method, the mean over examples of the
 * probability of the answer token at each share of the text flipped (the common grid, 0 to 1).
 */
export interface FlippingCurves {
  label: string;
  /** Tokens flipped per step. */
  k: number;
  curves: { method: string; x: number[]; p: number[]; n: number }[];
}

/**
 * Self-consistency tests of one column (a run, or a model pooled over seeds): each test's headline share
 * (self-consistent for redaction and counterfactual, unfaithful for the biasing feature) with its interval.
 */
export interface SelfConsistencyGroup {
  label: string;
  bars: { test: string; what: string; value: Estimate }[];
}

/** Where explanation relevance lands, as shares of the absolute relevance (sums to 1 per row). */
export interface RelevanceLocationRow {
  label: string;
  shares: Record<string, number>;
}

/** One unit (word or model token) of an example's text, as a character span of `text`. */
export interface ExampleUnit {
  start: number;
  end: number;
}

export type SourceKind = 'binary' | 'signed' | 'positive';

export interface ExampleSource {
  /** e.g. "human", "self-explanation", "LRP (cp)". */
  name: string;
  kind: SourceKind;
  /** One value per unit. */
  values: number[];
}

export interface ExampleView {
  /** Why it is shown: "best", "worst", "biggest disagreement", "chosen". */
  reason: string;
  title: string;
  text: string;
  language?: string | null;
  gold?: string | null;
  prediction?: string | null;
  /** e.g. "kappa human × self 0.81". */
  note?: string | null;
  units: ExampleUnit[];
  sources: ExampleSource[];
}

/** One convention of the method that differs from the paper or from ERASER. */
export interface MethodNote {
  topic: string;
  text: string;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  appVersion: string;
  study: { id?: number | null; name: string; config: unknown };
  models: ReportModel[];
  datasets: ReportDataset[];
  runs: ReportRun[];
  tables: MetricTable[];
  heatmap?: PlausibilityHeatmap | null;
  faithfulness?: FaithfulnessGroup[];
  relevanceLocation?: RelevanceLocationRow[];
  flipping?: FlippingCurves[];
  selfConsistency?: SelfConsistencyGroup[];
  examples: ExampleView[];
  /** The "Method" section: each convention that differs from the paper or ERASER. */
  method?: MethodNote[];
  /** Free notes (e.g. what could not be computed and why). */
  notes?: string[];
}
