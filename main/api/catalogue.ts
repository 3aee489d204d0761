import { z } from 'zod';
import type { LabelCheck } from '../protocol/gold';
import type { DatasetRecord, MetricRecord, ModelRecord, ResultRecord, RunRecord, StoredExample, StudyRecord } from '../store/types';
import type { ApiErrorData, Envelope } from './errors';
import type { MethodName } from './methods';
import type { ModelInspectionData } from './model-info';
import type { DatasetPreview } from '../datasets/preview';
import type { LongTexts } from '../datasets/length';
import type { TooLong } from '../runner/fit';

/**
 * The workbench's operation catalogue: one request schema per method. The IPC handlers and the
 * HTTP server both validate every argument against these before anything runs. Objects are strict:
 * an unknown key is an error, not silently dropped.
 */
const Id = z.number().int().positive();
/** An opaque file handle id (see files.ts), never a path. */
const Handle = z.string().regex(/^[0-9a-f]{32}$/, 'must be a file handle from a dialog or an upload');
const Format = z.enum(['msst', 'rafola', 'climate-fever', 'csv', 'jsonl']);
const Language = z.string().regex(/^[a-z]{2,3}$/, 'must be an ISO 639 code such as "en"');
/** The import form's label mapping: a label of the file -> a canonical label (targets checked by the service), or null. */
const LabelMapArg = z
  .record(z.string().min(1).max(500), z.string().min(1).max(200).nullable())
  .refine((m) => Object.keys(m).length <= 1000, 'maps at most 1000 labels');
/**
 * The Results screen's example filters (language, indicator, model, correct or not), one schema for
 * queryMetrics and for the Inspector's listResults; semantics in result-filter.ts.
 */
const FilterArg = z
  .object({
    language: z.string().trim().min(1).max(20).optional(),
    indicator: z.string().trim().min(1).max(100).optional(),
    model: z.string().min(1).max(500).optional(),
    correct: z.enum(['all', 'correct', 'incorrect']).default('all'),
  })
  .strict();

export const requests = {
  appInfo: z.object({}).strict(),
  listDatasets: z.object({}).strict(),
  importDataset: z
    .object({
      file: Handle,
      format: Format,
      language: Language.optional(),
      name: z.string().trim().min(1).max(200).optional(),
      /** A separate `id,label` file (mSST carries no labels). */
      labels: Handle.optional(),
      /** Dataset label -> canonical label (or null: leave those examples out); stored with the dataset. */
      labelMap: LabelMapArg.optional(),
    })
    .strict(),
  deleteDataset: z.object({ datasetId: Id }).strict(),
  listExamples: z
    .object({
      datasetId: Id,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
    })
    .strict(),
  getExample: z.object({ exampleId: Id }).strict(),
  listModels: z.object({}).strict(),
  inspectModel: z.object({ file: Handle }).strict(),
  registerModel: z.object({ file: Handle }).strict(),
  /** An hf: address (hf:user/repo/file.gguf) or an https URL; never a local path. */
  downloadModel: z
    .object({
      address: z
        .string()
        .trim()
        .regex(/^(hf:[\w.-]+\/[\w.-]+(\/[\w.\/-]+)?(:[\w.-]+)?|https:\/\/\S+)$/, 'must be an hf: address such as hf:user/repo/model.Q4_K_M.gguf, or an https URL')
        // the file is saved under the models directory by its name: no segment may climb out of it
        .refine((a) => !/(^|[\/\\:])\.\.([\/\\:]|$)/.test(a) && !a.includes('\\'), 'must not contain ".." segments or backslashes'),
    })
    .strict(),
  cancelDownload: z.object({ downloadId: Id }).strict(),
  listStudies: z.object({}).strict(),
  getStudy: z.object({ studyId: Id }).strict(),
  builtinStudies: z.object({}).strict(),
  validateStudyConfig: z.object({ config: z.unknown() }).strict(),
  saveStudy: z.object({ studyId: Id.optional(), name: z.string().trim().min(1).max(200), config: z.unknown() }).strict(),
  previewPrompt: z
    .object({ config: z.unknown(), modelId: Id.optional(), exampleId: Id.optional() })
    .strict(),
  listRuns: z.object({ studyId: Id.optional() }).strict(),
  getRun: z.object({ runId: Id }).strict(),
  startRun: z.object({ studyId: Id }).strict(),
  pauseRun: z.object({ runId: Id }).strict(),
  resumeRun: z.object({ runId: Id }).strict(),
  cancelRun: z.object({ runId: Id }).strict(),
  listResults: z
    .object({
      runId: Id,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
      /** The Results screen's filters: only the run's results that Results counts for them (result-filter.ts). */
      filter: FilterArg.optional(),
    })
    .strict(),
  getResult: z.object({ runId: Id, exampleId: Id }).strict(),
  listMetrics: z.object({ runId: Id }).strict(),
  /** Metrics of the runs and examples the Results screen's filters choose (see metrics-query.ts). */
  queryMetrics: FilterArg.extend({ runIds: z.array(Id).max(10_000).optional() }).strict(),
  exportRun: z.object({ runId: Id, format: z.enum(['csv', 'jsonl', 'pdf']) }).strict(),
  // ---- import form and study fit (issue 12, items 3 and 5) ----
  /** A dry run of importDataset: parsed and validated, nothing stored (problems, labels, long texts). */
  previewDataset: z
    .object({ file: Handle, format: Format, language: Language.optional(), labels: Handle.optional() })
    .strict(),
  /** Each chosen model's token count of every example against the context the run will use. */
  checkStudyFit: z.object({ config: z.unknown() }).strict(),
} satisfies Record<MethodName, z.ZodType>;

// Compile-time check that methods.ts lists exactly the catalogue's keys.
type _SameKeys = [MethodName] extends [keyof typeof requests] ? ([keyof typeof requests] extends [MethodName] ? true : never) : never;
const _sameKeys: _SameKeys = true;
void _sameKeys;

/** A file the user chose (dialog) or uploaded: an opaque handle, its display name and size. */
export interface FileHandleInfo {
  handle: string;
  name: string;
  size: number;
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'browser';
  dataDir: string;
  /** Total and free memory in bytes, for the "does this model fit" check. */
  memory: { total: number; free: number };
  /** Which engine parts are installed in this build (others answer "unavailable"). */
  features: Record<string, boolean>;
}

export interface ImportReport {
  dataset: DatasetRecord;
  examples: number;
  withRationale: number;
  withoutLabels: number;
  languages: Record<string, number>;
  labels: Record<string, number>;
  /** Non-fatal observations (e.g. examples without rationale). */
  warnings: string[];
  /** Texts longer than common contexts (estimated tokens: no model is chosen yet). */
  longTexts: LongTexts[];
}

// ---- import form and study fit (issue 12, items 3 and 5) ----

/** The import form's dry run: what the import would find, nothing stored (datasets/preview.ts). */
export interface DatasetPreviewResult extends DatasetPreview {
  /** The labels a dataset label can be mapped to: the task options of the built-in tasks (protocol/gold.ts). */
  canonicalLabels: string[];
}

/** checkStudyFit: per chosen model, the examples that will not fit the run's context (runner/fit.ts). */
export interface StudyFit {
  models: {
    modelId: number | null;
    name: string;
    /** The context the run will create (tokens); null when the model could not be checked. */
    context: number | null;
    /** Examples counted, too long ones, and the first of them (TOO_LONG_CAP). */
    checked: number;
    count: number;
    tooLong: TooLong[];
    /** Why this model could not be checked (no chat template, not registered). */
    problem?: string;
  }[];
  /** Too-long examples over all models. */
  count: number;
  /** The study's choice for them (limits.tooLong), null when none is made. */
  choice: 'skip' | 'truncate' | null;
  /** Nothing too long, or a choice made: the run may start. */
  ok: boolean;
}

/** What the engine reports about a GGUF file, plus the display name the API adds. */
export interface ModelInspection extends ModelInspectionData {
  name: string;
}

export interface ModelFit {
  /** Estimated bytes needed to run it (weights + a context). */
  needBytes: number;
  freeBytes: number;
  fits: boolean;
  note: string;
}

export interface StudyValidation {
  ok: boolean;
  /** Messages keyed by the field's dotted path ("" for the whole config). */
  fields: Record<string, string>;
  config?: unknown;
  /**
   * The gold labels of the study's (stored) dataset under its task (protocol/gold.ts): the values that map
   * to no option, for the form's label-mapping editor. Absent when the config is invalid or the dataset is
   * a built-in one.
   */
  labels?: StudyLabels;
  /**
   * The label mapping stored with the study's dataset (chosen at import), kept to the entries that fit the
   * study's task (targets among its options, or null): where the form's label-mapping editor starts.
   */
  datasetLabelMap?: Record<string, string | null>;
}

export type StudyLabels = LabelCheck & { dataset: { id: number; name: string } };

export interface BuiltinStudy {
  name: string;
  title: string;
  description: string;
  config: unknown;
}

export interface PromptPreview {
  /** The exact text the model sees, chat template included. */
  prompt: string;
  /** Segments of the prompt (template / instructions / options / text) as character spans. */
  segments: { kind: string; start: number; end: number }[];
  tokenCount: number | null;
  /** Which example and model it shows, or why there is no chat template. */
  note: string;
}

export interface ExportResult {
  /** Where the file went (Electron: the save dialog's choice) or a download handle (browser). */
  name: string;
  bytes: number;
  download?: string;
}

/** A stored result with relevance vectors as plain arrays (JSON- and IPC-safe). */
export type PlainResult = Omit<ResultRecord, 'relevance'> & {
  relevance: { method: string; values: number[]; explainedValue: number | null; meta: Record<string, unknown> | null }[];
};

export interface DownloadState {
  downloadId: number;
  address: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  downloaded: number;
  total: number;
  message?: string;
  modelId?: number;
}

// ---- Filtered metrics (the Results screen's filters; computed by metrics-query.ts) ----

export type Correctness = 'all' | 'correct' | 'incorrect';

export interface MetricsFilter {
  /** Runs to consider; default every run with stored metrics. */
  runIds?: number[];
  language?: string;
  indicator?: string;
  model?: string;
  correct?: Correctness;
}

/** One run as the filters see it: what its stored metrics say about it. */
export interface RunFacet {
  runId: number;
  studyId: number;
  seed: number;
  model: string;
  indicator: string | null;
  /** Languages of the run's examples that have a stored result. */
  languages: string[];
}

/** A metric row of the filtered view: stored (`id` set) or recomputed (`id` null). */
export interface FilteredMetric {
  id: number | null;
  runId: number;
  scope: Record<string, unknown>;
  name: string;
  value: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  n: number | null;
}

export interface MetricsQueryResult {
  /** Filter choices over the considered runs (before filtering), so a choice never hides the others. */
  facets: { languages: string[]; indicators: string[]; models: string[] };
  /** Runs left after the language, indicator and model filters. */
  runs: RunFacet[];
  /** Considered runs that have no stored metrics yet (still running, or failed before the end). */
  pending: number[];
  /** 'stored' when the rows are the stored ones; 'recomputed' when "correct or not" chose examples. */
  source: 'stored' | 'recomputed';
  /** Results (examples) in the filtered set, skipped ones included. */
  examples: number;
  metrics: FilteredMetric[];
  /**
   * Per model (runs of one study and model with two or more seeds in the filtered set): every figure pooled
   * over the seeds, recomputed over the filtered examples; the interval resamples examples with all their
   * seeds' results (n = examples). Next to the per-seed rows in `metrics`.
   */
  pooled: PooledModelMetrics[];
}

export interface PooledModelMetrics {
  model: string;
  indicator: string | null;
  runIds: number[];
  seeds: number[];
  metrics: Omit<FilteredMetric, 'id' | 'runId'>[];
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
}

/** The Results filters without the run choice: what the Inspector applies to the run it shows. */
export type ExampleFilter = Omit<MetricsFilter, 'runIds'>;

/** A page of a run's results; `total` counts the filtered results when a filter was given. */
export interface ResultsPage extends Page<PlainResult> {
  /** The run's results before any filter, skipped ones included. */
  runTotal: number;
  /**
   * Present when a filter was given. `run`: the run is in the filtered set ('in'), has no metrics
   * yet so no filter covers it ('pending'), or the filter leaves it out ('out', e.g. another model).
   * `runsInFilter`: when the run is not in it, the runs that are (so the user can go to one).
   */
  filtered?: { run: 'in' | 'pending' | 'out'; runsInFilter: number[] };
}

export interface Responses {
  appInfo: AppInfo;
  listDatasets: DatasetRecord[];
  importDataset: ImportReport;
  deleteDataset: { deleted: boolean };
  listExamples: Page<StoredExample>;
  getExample: StoredExample;
  listModels: ModelRecord[];
  inspectModel: ModelInspection;
  registerModel: { model: ModelRecord; inspection: ModelInspection };
  downloadModel: { downloadId: number };
  cancelDownload: { cancelling: boolean };
  listStudies: StudyRecord[];
  getStudy: StudyRecord;
  builtinStudies: BuiltinStudy[];
  validateStudyConfig: StudyValidation;
  saveStudy: { study: StudyRecord };
  previewPrompt: PromptPreview;
  listRuns: RunRecord[];
  getRun: RunRecord;
  startRun: { runIds: number[] };
  pauseRun: RunRecord;
  resumeRun: RunRecord;
  cancelRun: RunRecord;
  listResults: ResultsPage;
  getResult: PlainResult;
  listMetrics: MetricRecord[];
  queryMetrics: MetricsQueryResult;
  exportRun: ExportResult;
  previewDataset: DatasetPreviewResult;
  checkStudyFit: StudyFit;
}

export type Request<M extends MethodName> = z.input<(typeof requests)[M]>;
export type ParsedRequest<M extends MethodName> = z.output<(typeof requests)[M]>;

/** What the renderer calls: one async method per operation; errors are thrown as WorkbenchError. */
export type WorkbenchApi = { [M in MethodName]: (arg: Request<M>) => Promise<Responses[M]> };

/** What window.workbench exposes in Electron (the preload): the same methods, returning envelopes. */
export type WorkbenchBridge = { [M in MethodName]: (arg: Request<M>) => Promise<Envelope<Responses[M]>> } & {
  /** Opens the native file dialog; null when the user cancels. */
  pickFile(purpose: 'dataset' | 'labels' | 'model' | 'definitions'): Promise<Envelope<FileHandleInfo | null>>;
  /** Asks where to save an export (native dialog) and copies it there; null when cancelled. */
  saveFile(download: string): Promise<Envelope<{ savedTo: string } | null>>;
  /** Subscribes to engine events; returns an unsubscribe function. */
  onEvent(listener: (event: WorkbenchEvent) => void): () => void;
};

export type WorkbenchEvent =
  | { type: 'run-progress'; run: RunRecord }
  | { type: 'run-error'; runId: number; exampleId?: number; message: string }
  | { type: 'download'; download: DownloadState }
  | { type: 'datasets-changed' }
  | { type: 'models-changed' };

export type { ApiErrorData, Envelope, MethodName };

/** Turns zod issues into messages keyed by the field path. */
export function issuesToFields(issues: readonly { path: readonly PropertyKey[]; message: string }[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const i of issues) {
    const key = i.path.map(String).join('.');
    fields[key] = fields[key] ? `${fields[key]}; ${i.message}` : i.message;
  }
  return fields;
}
