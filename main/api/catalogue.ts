import { z } from 'zod';
import type { LabelCheck } from '../protocol/gold';
import type { DatasetRecord, MetricRecord, ModelRecord, ResultRecord, RunRecord, StoredExample, StudyRecord } from '../store/types';
import type { DeletionImpact } from '../store/deletions-repo';
import { nameProblem } from '../store/names';
import type { ModelFileFate } from './deletion';
import type { ApiErrorData, Envelope } from './errors';
import type { MethodName } from './methods';
import type { ModelInspectionData } from './model-info';
import type { CatalogueEntry } from '../models/catalogue';
import type { QueueWorkerRecord } from '../queue/status-repo';
import type { HardwareInfo } from '../models/hardware';
import type { TemplateStatus } from '../protocol/template-families';
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
/** A model catalogue entry's name (main/models/catalogue.ts). */
const CatalogueName = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,99}$/, 'must be a model catalogue entry name such as "qwen2.5-7b-instruct"');
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

/** A chat template for a registered model: exactly one of a family's id or a custom Jinja text. */
const TemplateChoiceArg = z
  .object({
    modelId: Id,
    family: z.string().trim().min(1).max(40).optional(),
    template: z.string().min(1, 'must not be empty').max(200_000).optional(),
  })
  .strict()
  .refine((a) => (a.family === undefined) !== (a.template === undefined), { message: 'give exactly one of a family or a custom template', path: ['template'] });
// ---- housekeeping (issue 12 item 6) ----
/** A name a person gives a dataset, model, study or run (store/names.ts), trimmed. */
const DisplayName = z
  .string()
  .superRefine((v, ctx) => {
    const p = nameProblem(v);
    if (p) ctx.addIssue({ code: z.ZodIssueCode.custom, message: p });
  })
  .transform((v) => v.trim());
/** Without it a delete answers what it would take along and deletes nothing; `true` deletes (deletion.ts). */
const Confirm = z.boolean().default(false);
// ---- issue 15: workers ----
/**
 * A queue address (redis://[user:password@]host[:port][/db] or rediss://…): a network address, never a
 * file path. Its form is checked by the service with main/queue/url.ts parseQueueUrl (one rule with the
 * CLI's --queue), whose messages show it without its password; zod's own messages never echo it.
 */
const QueueAddressArg = z.string().trim().min(1, 'give the queue address, e.g. redis://host:6379').max(2000);

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
  deleteDataset: z.object({ datasetId: Id, confirm: Confirm }).strict(),
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
  // ---- model catalogue and downloads (main/models/catalogue.ts, registry-download.ts) ----
  /**
   * A catalogue entry's name, or an hf: address (hf:user/repo/file.gguf) or an https URL; never a local path.
   * `acceptUnverified`: the user's confirmation to download an entry whose SHA-256 is not published.
   */
  downloadModel: z
    .object({
      address: z
        .string()
        .trim()
        .regex(/^(hf:[\w.-]+\/[\w.-]+(\/[\w.\/-]+)?(:[\w.-]+)?|https:\/\/\S+)$/, 'must be an hf: address such as hf:user/repo/model.Q4_K_M.gguf, or an https URL')
        // the file is saved under the models directory by its name: no segment may climb out of it
        .refine((a) => !/(^|[\/\\:])\.\.([\/\\:]|$)/.test(a) && !a.includes('\\'), 'must not contain ".." segments or backslashes')
        .optional(),
      entry: CatalogueName.optional(),
      acceptUnverified: z.boolean().optional(),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.address === undefined && a.entry === undefined) {
        ctx.addIssue({ code: 'custom', path: ['address'], message: 'give a catalogue entry or an address (hf: address or https URL)' });
      }
      if (a.address !== undefined && a.entry !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['entry'], message: 'give a catalogue entry or an address, not both' });
      }
      if (a.acceptUnverified !== undefined && a.entry === undefined) {
        ctx.addIssue({ code: 'custom', path: ['acceptUnverified'], message: 'only for a catalogue entry' });
      }
    }),
  cancelDownload: z.object({ downloadId: Id }).strict(),
  listCatalogue: z.object({}).strict(),
  pauseDownload: z.object({ downloadId: Id }).strict(),
  /** Deletes what a stopped download of this entry kept (its part file). */
  discardDownload: z.object({ entry: CatalogueName }).strict(),
  /** The newest version of each study; `allVersions`: every version (a run names the version it ran, e.g. the run monitor). */
  listStudies: z.object({ allVersions: z.boolean().default(false) }).strict(),
  getStudy: z.object({ studyId: Id }).strict(),
  builtinStudies: z.object({}).strict(),
  validateStudyConfig: z.object({ config: z.unknown() }).strict(),
  saveStudy: z.object({ studyId: Id.optional(), name: z.string().trim().min(1).max(200), config: z.unknown() }).strict(),
  previewPrompt: z
    .object({ config: z.unknown(), modelId: Id.optional(), exampleId: Id.optional() })
    .strict(),
  listRuns: z.object({ studyId: Id.optional() }).strict(),
  getRun: z.object({ runId: Id }).strict(),
  /** `queue` (issue 15: workers): the study's examples are computed by queue workers, as `run --queue`. */
  startRun: z.object({ studyId: Id, queue: QueueAddressArg.optional() }).strict(),
  pauseRun: z.object({ runId: Id }).strict(),
  /** `queue` (issue 15: workers): continue on queue workers; a run on workers needs it after a restart (the password is not kept). */
  resumeRun: z.object({ runId: Id, queue: QueueAddressArg.optional() }).strict(),
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
  // Models: chat templates for template-less GGUFs, hardware and GPU offload (issue 12 items 1, 11)
  templateFamilies: z.object({}).strict(),
  /** The two-turn test chat rendered with a family's or a custom template, by the model's own vocabulary. */
  previewModelTemplate: TemplateChoiceArg,
  /** Stores the choice with the model once it renders the test chat (else: the render error at its field). */
  setModelTemplate: TemplateChoiceArg,
  hardwareInfo: z.object({}).strict(),
  // ---- housekeeping (issue 12 item 6) ----
  renameDataset: z.object({ datasetId: Id, name: DisplayName }).strict(),
  renameModel: z.object({ modelId: Id, name: DisplayName }).strict(),
  renameStudy: z.object({ studyId: Id, name: DisplayName }).strict(),
  renameRun: z.object({ runId: Id, name: DisplayName }).strict(),
  deleteModel: z.object({ modelId: Id, confirm: Confirm }).strict(),
  deleteStudy: z.object({ studyId: Id, confirm: Confirm }).strict(),
  deleteRun: z.object({ runId: Id, confirm: Confirm }).strict(),
  // ---- welcome, settings (issue 12 items 9 and 13) ----
  firstRunStatus: z.object({}).strict(),
  /** The first-run demo's PDF report as a download handle (by its built-in name; never a path). */
  demoReport: z.object({}).strict(),
  getSettings: z.object({}).strict(),
  /**
   * contextSize / threads: a number, or null for the built-in default. dataDir (desktop only): a directory
   * handle from the native dialog (pickFile('data-dir')), or "default"; absent leaves it as it is.
   */
  saveSettings: z
    .object({
      contextSize: z.number().int().nullable(),
      threads: z.number().int().nullable(),
      dataDir: z.union([Handle, z.literal('default')]).optional(),
    })
    .strict(),
  // ---- import form and study fit (issue 12, items 3 and 5) ----
  /** A dry run of importDataset: parsed and validated, nothing stored (problems, labels, long texts). */
  previewDataset: z
    .object({ file: Handle, format: Format, language: Language.optional(), labels: Handle.optional() })
    .strict(),
  /** Each chosen model's token count of every example against the context the run will use. */
  checkStudyFit: z.object({ config: z.unknown() }).strict(),
  // ---- issue 15: workers ----
  /** The stored queue records (per run, per worker) of the runs computed on workers; `runIds`: only these. */
  listQueueRuns: z.object({ runIds: z.array(Id).max(10_000).optional() }).strict(),
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
  /**
   * Datasets imported before from a file with the same content (SHA-256), oldest first; empty when none. The new
   * dataset is kept: the GUI offers to delete the new copy (deleteDataset) or keep both.
   */
  duplicateOf?: DatasetDuplicate[];
}

/** An earlier import of the same content (ImportReport.duplicateOf). */
export interface DatasetDuplicate {
  id: number;
  name: string;
  createdAt: string;
}

/**
 * The answer of deleteDataset/deleteModel/deleteStudy/deleteRun: without `confirm`, what the deletion would take
 * along (deleted: false); with it, what it took (deleted: true). `summary` says it in one sentence.
 */
export interface DeletionAnswer {
  deleted: boolean;
  impact: DeletionImpact;
  summary: string;
  /** deleteModel: what happens (happened) to the model's file. */
  file?: ModelFileFate;
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

// ---- Models: chat templates and hardware (issue 12 items 1, 11) ----

/** A registered model as listed, with the chat template it renders with (protocol/template-families.ts). */
export type ModelEntry = ModelRecord & { template: TemplateStatus };
export type { TemplateStatus };

/** A known chat template family the Models screen offers for a model without a usable template. */
export interface TemplateFamilyInfo {
  id: string;
  name: string;
  /** Text the family writes around turns, which its preview shows. */
  markers: string[];
}

export interface TemplatePreview {
  /** The family's id, or null for a custom text. */
  family: string | null;
  /** A short two-turn chat as the model would see it. */
  rendered: string;
  tokenCount: number;
  markers: string[];
}

/** How much of a model fits in the GPU's free memory. */
export interface VramFit {
  /** Bytes of VRAM with every layer offloaded. */
  needBytes: number;
  freeBytes: number;
  totalLayers: number;
  layersThatFit: number;
  fits: 'full' | 'partial' | 'none';
  note: string;
}

export interface ModelHardwareFit {
  modelId: number;
  /** RAM fit on the CPU (null: the model's file cannot be read). */
  ram: ModelFit | null;
  /** VRAM fit for offload; null on a machine without a GPU (CPU only). */
  vram: VramFit | null;
  /** Why a fit is missing (e.g. the file is gone). */
  note?: string;
}

export interface HardwareReport {
  hardware: HardwareInfo;
  models: ModelHardwareFit[];
}
export type { HardwareInfo };

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
  /**
   * The extra prompts of the study's self-consistency tests (config.selfConsistency), in the same rendering
   * as `prompt` (protocol/self-consistency.ts); absent when the study runs none.
   */
  selfConsistency?: { test: string; prompt: string; note: string }[];
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
  /** The catalogue entry downloaded (absent for an hf:/https address). */
  entry?: string;
  /** verifying: all bytes are in and the SHA-256 is being compared; paused: stopped by the user, part kept. */
  status: 'running' | 'verifying' | 'paused' | 'done' | 'failed' | 'cancelled';
  /** checking: hashing the bytes kept from before a resume. */
  phase?: 'checking' | 'downloading' | 'verifying';
  downloaded: number;
  /** 0 while unknown. */
  total: number;
  /** Bytes per second (recent), and seconds left at that rate. */
  rate?: number;
  etaSeconds?: number | null;
  /** Bytes kept from an earlier attempt this one continued from. */
  resumedFrom?: number;
  /** After a stop: bytes kept in the part file for a resume (0: nothing kept). */
  partBytes?: number;
  /** verified: matches the published SHA-256; unverified: none published (the user accepted); mismatch: refused. */
  verification?: 'verified' | 'unverified' | 'mismatch';
  /** The SHA-256 computed over the downloaded file. */
  sha256?: string;
  note?: string;
  message?: string;
  modelId?: number;
}

/**
 * A model catalogue entry as the Models screen shows it: the entry's published facts (main/models/catalogue.ts; its
 * hyperparameters stay on the Node side, they only feed `fit`) and what this machine and store add to them.
 */
export interface CatalogueItem extends Omit<CatalogueEntry, 'hparams'> {
  /** The registry runs this architecture; when not, `notRunnable` says why and downloading is refused. */
  runnable: boolean;
  notRunnable?: string;
  /** RAM (or VRAM, all layers offloaded) estimate; null without a published size. */
  fit: { needBytes: number; contextSize: number; fits: boolean; note: string } | null;
  /** Bytes kept by a stopped download (resume continues from there); 0 when none. */
  partBytes: number;
  /** The registered model downloaded from this entry, if any. */
  modelId: number | null;
  /** The download under way for this entry, if any. */
  download: DownloadState | null;
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
  // faithfulness curves over k (issue 12 item 8)
  /** Per run with stored k-greedy flipping curves: each method's mean curve over the filtered examples. */
  flipping?: RunFlippingCurves[];
}

/** A run's mean k-greedy flipping curve per method (metrics/flipping.ts `meanCurvesByMethod`). */
export interface RunFlippingCurves {
  runId: number;
  /** Text tokens flipped per step. */
  k: number;
  /** x: share of the text replaced (0..1); p: mean answer probability there; n: examples averaged. */
  curves: { method: string; x: number[]; p: number[]; n: number }[];
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
  deleteDataset: DeletionAnswer;
  listExamples: Page<StoredExample>;
  getExample: StoredExample;
  listModels: ModelEntry[];
  inspectModel: ModelInspection;
  registerModel: { model: ModelRecord; inspection: ModelInspection };
  downloadModel: { downloadId: number };
  cancelDownload: { cancelling: boolean };
  listCatalogue: CatalogueItem[];
  pauseDownload: { pausing: boolean };
  discardDownload: { discarded: boolean };
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
  templateFamilies: TemplateFamilyInfo[];
  previewModelTemplate: TemplatePreview;
  setModelTemplate: { model: ModelEntry; preview: TemplatePreview };
  hardwareInfo: HardwareReport;
  // ---- housekeeping (issue 12 item 6) ----
  renameDataset: DatasetRecord;
  renameModel: ModelRecord;
  /** The version that carries the new name (a new one when the newest had runs; studies-repo.ts). */
  renameStudy: StudyRecord;
  renameRun: RunRecord;
  deleteModel: DeletionAnswer;
  deleteStudy: DeletionAnswer;
  deleteRun: DeletionAnswer;
  // ---- welcome, settings (issue 12 items 9 and 13) ----
  firstRunStatus: FirstRunStatus;
  demoReport: ExportResult;
  getSettings: SettingsView;
  saveSettings: SettingsView & { restartNeeded: boolean; message: string };
  previewDataset: DatasetPreviewResult;
  checkStudyFit: StudyFit;
  // ---- issue 15: workers ----
  listQueueRuns: QueueRunView[];
}

// ---- issue 15: workers ----

/**
 * A worker's share of a run on workers, as the owner stored it (main/queue/status-repo.ts; `hasModel` false: the
 * worker is live but lacks the run's model and takes none of its jobs).
 */
export type QueueWorkerView = Omit<QueueWorkerRecord, 'runId'>;

/** A run computed on queue workers, as stored (it survives a reload and a restart). */
export interface QueueRunView {
  runId: number;
  /** The queue's address without its password (redis://:***@host:port). */
  queue: string;
  /** The run's model: its name (for "worker X lacks model M") and hash (workers match models by hash). */
  modelName: string;
  modelSha256: string;
  /** Why the run waits (no live worker has its model…); null while workers compute it. */
  note: string | null;
  workers: QueueWorkerView[];
  /**
   * Whether this app session holds the full address (with its password) for resuming the run. It is kept in
   * memory only, never written: after a restart, Resume asks for the address again.
   */
  addressKnown: boolean;
  updatedAt: string;
}

// ---- welcome, settings (issue 12 items 9 and 13) ----

/** Where the app stands on a first run: the user's own runs, and the first-run demo's progress and report. */
export interface FirstRunStatus {
  /** Runs that are not the first-run demo's: the welcome screen shows while there are none. */
  ownRuns: number;
  demo: {
    /**
     * none: no demo (turned off, or the database had runs); running: under way in this session; done: its
     * report is written; incomplete / failed: stopped before the report (reason says why).
     */
    state: 'none' | 'running' | 'done' | 'incomplete' | 'failed';
    reason?: string;
    studyIds: number[];
    runIds: number[];
    /** Examples done and total over the demo's runs so far (runs not created yet are not counted). */
    done: number;
    total: number;
    /** How many studies the demo runs (one run each), and the share of them done (each run counts its part done). */
    studies: number;
    fraction: number;
    /** Whether the PDF report exists (demoReport answers it as a download). */
    report: boolean;
  };
}

export interface SettingsView {
  /** As stored (null: the built-in default). */
  settings: { contextSize: number | null; threads: number | null; dataDir: string | null };
  /** What applies now: the built-in defaults where a setting is null, and the data directory in use. */
  effective: { contextSize: number; threads: number; dataDir: string };
  /** Where the data directory in use comes from. */
  dataDirSource: 'environment' | 'settings' | 'default' | 'command line';
  /** The data directory the next start will use, when it differs from the one in use. */
  pendingDataDir: string | null;
  /** Whether this front end may change the data directory (desktop: native dialog; browser mode: no). */
  dataDirEditable: boolean;
  threadsMax: number;
  /** Problems of the stored file (values that were left at their defaults), by field. */
  problems: Record<string, string>;
  /** Where the settings file is (shown so the user can find it; the API never takes a path). */
  file: string;
}

export type Request<M extends MethodName> = z.input<(typeof requests)[M]>;
export type ParsedRequest<M extends MethodName> = z.output<(typeof requests)[M]>;

/** What the renderer calls: one async method per operation; errors are thrown as WorkbenchError. */
export type WorkbenchApi = { [M in MethodName]: (arg: Request<M>) => Promise<Responses[M]> };

/** What window.workbench exposes in Electron (the preload): the same methods, returning envelopes. */
export type WorkbenchBridge = { [M in MethodName]: (arg: Request<M>) => Promise<Envelope<Responses[M]>> } & {
  /** Opens the native file dialog; null when the user cancels. */
  pickFile(purpose: 'dataset' | 'labels' | 'model' | 'definitions' | 'data-dir'): Promise<Envelope<FileHandleInfo | null>>;
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
