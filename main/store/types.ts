import type { DatasetFormat, ParsedExample } from '../datasets/types';

/** Types at the store's boundary. Ids are SQLite rowids; timestamps are ISO-8601 UTC strings. */

export interface DatasetRecord {
  id: number;
  name: string;
  format: DatasetFormat;
  sourcePath: string;
  sourceSha256: string;
  language: string | null;
  labelSet: string[];
  /** The label mapping chosen at import (dataset label -> canonical label, or null: leave out); the examples keep their labels. */
  labelMap?: Record<string, string | null>;
  createdAt: string;
  exampleCount: number;
  /** Examples with a human rationale (a mask or at least one span). */
  withRationale: number;
}

export interface StoredExample extends ParsedExample {
  id: number;
  datasetId: number;
  /** 0-based position in the imported file's order. */
  ordinal: number;
}

export interface ModelInput {
  path: string;
  sha256: string;
  fileSize: number;
  architecture?: string | null;
  parameterCount?: number | null;
  quantization?: string | null;
  contextLength?: number | null;
  chatTemplate?: string | null;
  /** e.g. {size, bos, eos, unk, type}; free-form. */
  vocabulary?: Record<string, unknown> | null;
  metadata?: Record<string, unknown>;
}

export interface ModelRecord extends Required<ModelInput> {
  id: number;
  registeredAt: string;
  /**
   * The chat template chosen for the model (Models screen) when its GGUF has no usable one: a family's id
   * (protocol/template-families.ts) or null for a custom Jinja text, and the text. Null when none was chosen.
   */
  templateChoice: { family: string | null; template: string } | null;
}

export interface StudyRecord<C = unknown> {
  id: number;
  name: string;
  config: C;
  version: number;
  /** The version this one was derived from; null for the first version. */
  parentId: number | null;
  /** Id of the first version; all versions of a study share it. */
  rootId: number;
  createdAt: string;
  updatedAt: string;
}

/** The statuses stored in runs.status. */
export const STORED_RUN_STATUSES = ['queued', 'running', 'paused', 'stopped', 'failed', 'done'] as const;
export type StoredRunStatus = (typeof STORED_RUN_STATUSES)[number];
/**
 * What a run record says. 'interrupted' is never stored: it is a stored 'running' whose lease is over (its
 * process was killed, crashed or the machine restarted; see main/store/leases.ts). Such a run is resumed
 * like a stopped one.
 */
export const RUN_STATUSES = [...STORED_RUN_STATUSES, 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunInput {
  studyId: number;
  modelId: number;
  datasetId: number;
  seed: number;
  appVersion: string;
  /** Number of examples the run will process (progress denominator). */
  total?: number;
}

export interface RunRecord {
  id: number;
  studyId: number;
  modelId: number;
  datasetId: number;
  seed: number;
  status: RunStatus;
  progress: { done: number; total: number };
  appVersion: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  timings: Record<string, unknown>;
  error: string | null;
  /** The name the user gave the run (rename); null: it is shown as "run <id>". */
  name: string | null;
}

/** A model token with its character offsets in the prompt and the prompt segment it belongs to. */
export interface TokenInfo {
  id: number;
  text: string;
  start: number;
  end: number;
  /** e.g. 'template' | 'options' | 'text' | 'answer'. */
  segment: string;
}

export interface RelevanceInput {
  /** Explanation method, e.g. 'lrp-cp', 'lrp-contrast', 'occlusion'. One vector per method per result. */
  method: string;
  values: Float32Array | readonly number[];
  /** The scalar explained (logit, logit difference); relevances of a conservative method sum to it. */
  explainedValue?: number | null;
  meta?: Record<string, unknown> | null;
}

export interface RelevanceRecord {
  method: string;
  values: Float32Array;
  explainedValue: number | null;
  meta: Record<string, unknown> | null;
}

export interface ResultInput {
  /** Raw model outputs per turn, e.g. {turn1: "...", turn2: "..."}. */
  rawOutputs: Record<string, unknown>;
  /** Parsed label, 'invalid' when the answer could not be parsed, null only when skipped. */
  label: string | null;
  correct?: boolean | null;
  answerToken?: string | null;
  answerProb?: number | null;
  optionProbs?: Record<string, number> | null;
  selfExplanation?: unknown[] | null;
  alignment?: unknown;
  tokens?: TokenInfo[] | null;
  /** Binary masks by name (e.g. human, self, lrp-topk), over tokens or words as the name says. */
  masks?: Record<string, number[]> | null;
  /** Why the example was not run (e.g. prompt over the context limit); every skip is recorded. */
  skippedReason?: string | null;
  relevance?: RelevanceInput[];
}

export interface ResultRecord {
  id: number;
  runId: number;
  exampleId: number;
  rawOutputs: Record<string, unknown>;
  label: string | null;
  correct: boolean | null;
  answerToken: string | null;
  answerProb: number | null;
  optionProbs: Record<string, number> | null;
  selfExplanation: unknown[] | null;
  alignment: unknown;
  tokens: TokenInfo[] | null;
  masks: Record<string, number[]> | null;
  skippedReason: string | null;
  createdAt: string;
  relevance: RelevanceRecord[];
}

export interface MetricInput {
  /** Where the value applies, e.g. {level: 'word', pair: 'human-self', language: 'da'}. */
  scope: Record<string, unknown>;
  name: string;
  /** null for an undefined value (e.g. kappa over zero examples); never NaN. */
  value: number | null;
  ciLow?: number | null;
  ciHigh?: number | null;
  n?: number | null;
}

export interface MetricRecord extends Required<MetricInput> {
  id: number;
  runId: number;
}

/** Raised for invalid input or a refused operation; the message names the record and field. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}
