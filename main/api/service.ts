import { EventEmitter } from 'node:events';
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseStudyConfig, StudyConfigError, type StudyConfig } from '../config/study-schema';
import { describeLabelCheck, labelText, studyLabelCheck } from '../protocol/gold';
import { openStore, type Store } from '../store';
import { builtinStudies } from './builtins';
import { issuesToFields, requests, type ParsedRequest, type Responses, type StudyLabels, type StudyValidation, type WorkbenchEvent } from './catalogue';
import { Engine, type EngineOptions } from './engine';
import { ApiError, type Envelope } from './errors';
import { FileHandles, type FileEntry } from './files';
import { METHOD_NAMES, type MethodName } from './methods';
import { importReport } from './import-summary';
import { deletionSummary, modelFileFate, removeModelFile } from './deletion';
import type { DeletionKind } from '../store/deletions-repo';
import { canonicalLabels, labelMapForTask } from './canonical-labels';
import { selectResults } from './result-filter';
import { apiStudyConfig } from './study-input';
import { describePreflight, runPreflight } from './run-preflight';
import { toErrorData } from './to-error';
import { CATALOGUE, catalogueEntry, catalogueFit, isRunnable, type CatalogueEntry } from '../models/catalogue';
import { discardPartialDownload, partialDownload } from '../models/registry-download';
import { SUPPORTED_ARCHITECTURES } from '../models/registry';
import type { CatalogueItem, DownloadState } from './catalogue';
import type { ResultRecord, StudyRecord } from '../store/types';
import type { ModelEntry, PlainResult, TemplatePreview } from './catalogue';
import { TEMPLATE_FAMILIES, templateProblem, templateStatus } from '../protocol/template-families';
import { choiceOf } from './model-template';
import type { ModelRecord } from '../store/types';
import { demoReportPath, firstRunStatus } from './first-run';
import { NO_SETTINGS, readSettings, settingsFileIn, settingsProblems, withSettingsDefaults, writeSettings, type Settings } from '../config/settings';
import { defaultConfigDir } from '../server/paths';
import { maxThreads } from '../models/session-threads';
import type { SettingsView } from './catalogue';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
// issue 15: workers (the URL rule and the stored records only: bullmq is loaded by the engine's owner)
import { parseQueueUrl, QueueUrlError } from '../queue/url';
import { queueStatus } from '../queue/status-repo';
import type { QueueRunView } from './catalogue';

/** Float32Array does not survive JSON (HTTP) or reads oddly across IPC: send plain number arrays. */
function plainResult(r: ResultRecord): PlainResult {
  return { ...r, relevance: r.relevance.map((v) => ({ ...v, values: Array.from(v.values) })) };
}

/**
 * The workbench service: the implementation of every catalogue method over the store and the
 * engine. Both transports (Electron IPC in main/shell, HTTP in main/server) call `call()`, which
 * validates the argument with the method's zod schema before anything runs.
 */
export interface WorkbenchOptions {
  dbFile: string;
  dataDir: string;
  mode: 'electron' | 'browser';
  version: string;
  /** Where uploaded files are kept (browser mode); default dataDir/uploads. */
  uploadDir?: string;
  engineHostEntry?: string;
  /** How to start the engine process (EngineOptions.fork); the Electron shell passes a utilityProcess. */
  forkEngine?: EngineOptions['fork'];
  /**
   * Renders a report HTML file to PDF. The Electron shell passes webContents.printToPDF here; without
   * it the engine prints with Chromium through playwright-core (browser mode, CLI).
   */
  renderPdf?: (htmlFile: string, pdfFile: string) => Promise<void>;
  /** The model catalogue the API offers (default: main/models/catalogue.ts's CATALOGUE; tests pass loopback entries). */
  catalogue?: readonly CatalogueEntry[];
  /** The settings file (main/config/settings.ts); default settings.json in the config directory (RW_CONFIG_DIR). */
  settingsFile?: string;
  /** Where `dataDir` came from, for the Settings screen; default: worked out from RW_DATA_DIR and the settings. */
  dataDirSource?: SettingsView['dataDirSource'];
}

type Impl = { [M in MethodName]: (arg: ParsedRequest<M>) => Promise<Responses[M]> | Responses[M] };

export class Workbench {
  readonly files: FileHandles;
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly engine: Engine;
  private readonly impl: Impl;
  /** Set by close(): work still in flight then fails because the app is stopping, not by itself. */
  closed = false;
  /**
   * The model catalogue listCatalogue and downloadModel({ entry }) use: the built-in one unless the options give
   * another. Never set from the API (tests replace it with entries served by a loopback server).
   */
  catalogue: readonly CatalogueEntry[];

  constructor(readonly options: WorkbenchOptions) {
    this.catalogue = options.catalogue ?? CATALOGUE;
    this.store = openStore(options.dbFile);
    this.files = new FileHandles(options.uploadDir ?? `${options.dataDir}/uploads`);
    this.engine = new Engine({
      hostEntry: options.engineHostEntry,
      fork: options.forkEngine,
      onEvent: (e) => this.emit(e as WorkbenchEvent),
    });
    this.impl = makeImpl(this);
  }

  emit(event: WorkbenchEvent): void {
    this.events.emit('event', event);
  }

  onEvent(listener: (e: WorkbenchEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** Validates `raw` against the method's schema and runs it. Never throws: errors come back as data. */
  async call(method: string, raw: unknown): Promise<Envelope<unknown>> {
    if (!(METHOD_NAMES as readonly string[]).includes(method)) {
      return { ok: false, error: { code: 'not_found', message: `unknown method "${method}"` } };
    }
    const m = method as MethodName;
    const parsed = (requests[m] as z.ZodType).safeParse(raw ?? {});
    if (!parsed.success) {
      const fields = issuesToFields(parsed.error.issues);
      const first = Object.entries(fields)[0];
      return {
        ok: false,
        error: { code: 'invalid', message: `${m}: ${first ? `${first[0] || 'argument'}: ${first[1]}` : 'invalid argument'}`, fields },
      };
    }
    try {
      const fn = this.impl[m] as (a: unknown) => Promise<unknown> | unknown;
      return { ok: true, value: await fn(parsed.data) };
    } catch (e) {
      return { ok: false, error: toErrorData(e) };
    }
  }

  close(): void {
    this.closed = true;
    this.engine.close();
    this.files.dispose();
    this.store.close();
  }
}

function fileOf(wb: Workbench, handle: string, field: string) {
  const f = wb.files.get(handle);
  if (!f) throw new ApiError('not_found', `${field}: no such file handle (choose or upload the file again)`, { [field]: 'no such file handle' });
  return f;
}

/**
 * Engine errors name the file they read; for an upload that is our private copy. Show the user the
 * name they chose instead (the path of a dialog-chosen file is theirs and stays).
 */
async function withUserNames<T>(wb: Workbench, files: (FileEntry | undefined)[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) {
      let msg = e.message;
      for (const f of files) if (f?.owned) msg = msg.split(f.path).join(f.name);
      throw new ApiError(e.code, msg, e.fields);
    }
    throw e;
  }
}

/** The gold labels of a study's stored dataset under its task (protocol/gold.ts); null for a built-in or missing dataset. */
function studyLabels(store: Store, config: StudyConfig): StudyLabels | null {
  const id = config.dataset.id;
  if (id === undefined || !store.datasets.get(id)) return null;
  const { check, dataset } = studyLabelCheck(store, config, id);
  return { ...check, dataset };
}

/**
 * The gold labels of a form's draft, as soon as its task, dataset and limits are valid, whatever the state of
 * its other fields (no model chosen yet): the user sees label problems when choosing the dataset and task.
 */
function labelsOfDraft(store: Store, draft: unknown): StudyLabels | null {
  const d = (draft && typeof draft === 'object' ? draft : {}) as Record<string, unknown>;
  const part = parseStudyConfig({ name: 'labels', task: d.task, dataset: d.dataset, models: [{ id: 1 }], ...(d.limits !== undefined ? { limits: d.limits } : {}) });
  return part.ok ? studyLabels(store, part.config) : null;
}

/** The form's message at task.labelMap: each value that maps to no option, with its count. */
function labelField(l: StudyLabels): string {
  const values = l.unmapped.map((v) => `${labelText(v.value)} (${v.count})`).join(', ');
  return `${l.count} of ${l.checked} examples have a gold label that maps to none of the options (${l.options.join(', ')}): ${values}; map each to an option or leave it out`;
}

// ---- Models: chat templates (issue 12 item 1) ----

/** A registered model with the chat template it renders with (template-families.ts decides). */
const modelEntry = (m: ModelRecord): ModelEntry => ({ ...m, template: templateStatus(m) });

/**
 * The study's registered models that cannot be used (no usable chat template), keyed by the field of each:
 * checked before any model runs (form validation, save, start), naming the model and where to fix it. Models
 * given by path (study files, CLI) are checked by the runner when it registers them.
 */
function modelFields(store: Store, config: StudyConfig): Record<string, string> {
  const fields: Record<string, string> = {};
  config.models.forEach((m, i) => {
    const rec = m.id !== undefined ? store.models.get(m.id) : undefined;
    const problem = rec && templateProblem(rec);
    if (problem) fields[`models[${i}].id`] = problem;
  });
  return fields;
}

function refuseUnusableModels(store: Store, config: StudyConfig): void {
  const fields = modelFields(store, config);
  const problems = Object.values(fields);
  if (problems.length) throw new ApiError('invalid', problems.join('; '), fields);
}

/** The test chat rendered with a model's chosen template, or the render error at the argument's field. */
async function templatePreview(wb: Workbench, a: { modelId: number; family?: string; template?: string }): Promise<{ preview: TemplatePreview; choice: { family: string | null; template: string } }> {
  const model = wb.store.models.get(a.modelId);
  if (!model) throw new ApiError('not_found', `model ${a.modelId} not found`, { modelId: 'model not found' });
  const choice = choiceOf(a);
  const r = await wb.engine.call('renderTemplateChat', { path: model.path, template: choice.template, field: a.family !== undefined ? 'family' : 'template' });
  const markers = TEMPLATE_FAMILIES.find((f) => f.id === choice.family)?.markers ?? [];
  return { choice, preview: { family: choice.family, rendered: r.rendered, tokenCount: r.tokenCount, markers } };
}

/** Refuses a study whose gold labels do not map, with every value listed (the runner would refuse it too). */
function refuseUnmappedLabels(store: Store, config: StudyConfig): void {
  const l = studyLabels(store, config);
  if (l && !l.ok) throw new ApiError('invalid', describeLabelCheck(l, l.dataset), { 'task.labelMap': labelField(l) });
}

/**
 * A stored study's configuration, validated once as a run of it is asked for: the one parse of that run. The
 * store keeps configurations as saved, unparsed (store/studies-repo.ts), and the engine runs them as stored;
 * a database written by an older version (or by hand) may hold one that no longer fits today's schema, which
 * is refused here, at once, with its fields named, before anything runs.
 */
function storedConfig(study: StudyRecord<StudyConfig>): StudyConfig {
  const parsed = parseStudyConfig(study.config);
  if (parsed.ok) return parsed.config;
  const fields: Record<string, string> = {};
  for (const i of parsed.errors) fields[i.path] = i.message;
  throw new ApiError('invalid', `study ${study.id} was not run: its stored configuration no longer fits (${new StudyConfigError(parsed.errors).message}); open it in the study form and save it again`, fields);
}

/**
 * Pause and cancel: the engine job stops the study after the example in flight and answers with its runs as
 * they ended. A run not running anywhere (queued, paused, interrupted) takes the new status here.
 */
async function stopRun(wb: Workbench, runId: number, then: 'paused' | 'stopped') {
  const run = wb.store.runs.get(runId);
  if (!run) throw new ApiError('not_found', `run ${runId} not found`, { runId: 'run not found' });
  const r = await wb.engine.call('stopStudy', { studyId: run.studyId, then });
  const ended = r.runs.find((x) => x.id === runId);
  if (r.stopping && ended) return ended;
  const now = wb.store.runs.get(runId)!;
  if (now.status === 'done') throw new ApiError('conflict', `run ${runId} is already done`);
  if (now.status !== then && now.status !== 'failed') wb.store.runs.setStatus(runId, then);
  return wb.store.runs.get(runId)!;
}

/** The import form's label mapping: every target a canonical label (or null), all wrong ones named at once. */
function checkedLabelMap(map: Record<string, string | null>): Record<string, string | null> {
  const allowed = canonicalLabels();
  const fields: Record<string, string> = {};
  for (const [from, to] of Object.entries(map)) {
    if (to !== null && !allowed.includes(to)) fields[`labelMap.${from}`] = `maps to ${JSON.stringify(to)}, which is not a canonical label (${allowed.join(', ')}, or null to leave those examples out)`;
  }
  if (Object.keys(fields).length) throw new ApiError('invalid', `labelMap: ${Object.entries(fields).map(([k, v]) => `${k.slice(9)} ${v}`).join('; ')}`, fields);
  return map;
}

let nextDownloadId = 1;

// ---- model catalogue and downloads ----
const modelsDir = (wb: Workbench) => join(wb.options.dataDir, 'models');

function entryOf(wb: Workbench, name: string): CatalogueEntry {
  const e = catalogueEntry(wb.catalogue, name);
  if (!e) throw new ApiError('not_found', `no model catalogue entry "${name}" (known: ${wb.catalogue.map((c) => c.name).join(', ')})`, { entry: 'no such catalogue entry' });
  return e;
}

const notRunnable = (e: CatalogueEntry) =>
  `its architecture "${e.architecture}" is not one this workbench runs yet (${SUPPORTED_ARCHITECTURES.join(', ')})`;

/** The latest state of each download this process started, by id (from the engine's 'download' events). */
const downloadStateMaps = new WeakMap<Workbench, Map<number, DownloadState>>();
function downloadStates(wb: Workbench): Map<number, DownloadState> {
  let m = downloadStateMaps.get(wb);
  if (!m) {
    const map = new Map<number, DownloadState>();
    wb.onEvent((ev) => {
      if (ev.type === 'download') map.set(ev.download.downloadId, ev.download);
    });
    downloadStateMaps.set(wb, (m = map));
  }
  return m;
}

function makeImpl(wb: Workbench): Impl {
  const { store } = wb;
  downloadStates(wb); // follow download events from the start
  const need = <T>(v: T | undefined, what: string, field: string): T => {
    if (v === undefined) throw new ApiError('not_found', `${what} not found`, { [field]: `${what} not found` });
    return v;
  };
  /**
   * housekeeping (issue 12 item 6): what deleting takes along (store/deletions-repo.ts); with `confirm`, deletes
   * it in one transaction, then a model's file when the workbench made it (deletion.ts). A running run refuses.
   */
  const remove = (kind: DeletionKind, id: number, confirm: boolean): Responses['deleteDataset'] => {
    const field = `${kind}Id`;
    const options = { isStudyActive: (studyId: number) => wb.engine.studyPid(studyId) !== undefined };
    const exists = { dataset: () => store.datasets.get(id), model: () => store.models.get(id), study: () => store.studies.get(id), run: () => store.runs.get(id) }[kind];
    need(exists(), `${kind} ${id}`, field);
    const fileOfModel = () => {
      if (kind !== 'model') return undefined;
      const m = store.models.get(id)!;
      return modelFileFate(m.path, wb.options.dataDir, store.models.list().filter((o) => o.id !== id && o.path === m.path).length);
    };
    let impact = store.deletions.impact(kind, id, options);
    const file = fileOfModel();
    if (!confirm) return { deleted: false, impact, summary: deletionSummary(impact, file), ...(file ? { file } : {}) };
    if (impact.refused) throw new ApiError('conflict', impact.refused, { [field]: impact.refused });
    impact = store.deletions.delete(kind, id, options);
    if (file) removeModelFile(file);
    if (kind === 'dataset') wb.emit({ type: 'datasets-changed' });
    if (kind === 'model') wb.emit({ type: 'models-changed' });
    return { deleted: true, impact, summary: deletionSummary(impact, file), ...(file ? { file } : {}) };
  };
  const unavailable = (what: string) => {
    throw new ApiError('unavailable', `${what} is not available in this build yet`);
  };
  return {
    appInfo: () => ({
      version: wb.options.version,
      mode: wb.options.mode,
      dataDir: wb.options.dataDir,
      memory: { total: totalmem(), free: freemem() },
      features: { datasets: true, models: true, studies: true, runs: true, prompts: true, export: true },
    }),
    listDatasets: () => store.datasets.list(),
    async importDataset(a) {
      const file = fileOf(wb, a.file, 'file');
      const labels = a.labels ? fileOf(wb, a.labels, 'labels') : undefined;
      const { datasetId } = await withUserNames(wb, [file, labels], () => wb.engine.call('importDataset', {
        dbFile: wb.options.dbFile,
        path: file.path,
        displayName: file.name,
        format: a.format,
        language: a.language,
        name: a.name,
        labelsPath: labels?.path,
        ...(a.labelMap ? { labelMap: checkedLabelMap(a.labelMap) } : {}),
      }));
      wb.emit({ type: 'datasets-changed' });
      const dataset = need(store.datasets.get(datasetId), 'dataset', 'file');
      // housekeeping (issue 12 item 6): an earlier import of the same content is named, not silently added to
      const duplicateOf = store.datasets.sameContent(datasetId).map((d) => ({ id: d.id, name: d.name, createdAt: d.createdAt }));
      const report = importReport(dataset, store.datasets.examples(datasetId));
      if (duplicateOf.length) {
        report.warnings.unshift(`same content as dataset “${duplicateOf[0].name}” imported on ${duplicateOf[0].createdAt.slice(0, 10)}${duplicateOf.length > 1 ? ` (and ${duplicateOf.length - 1} more)` : ''}: keep both, or delete the new copy`);
      }
      return { ...report, duplicateOf };
    },
    deleteDataset: (a) => remove('dataset', a.datasetId, a.confirm),
    listExamples(a) {
      const ds = need(store.datasets.get(a.datasetId), `dataset ${a.datasetId}`, 'datasetId');
      return { items: store.datasets.examples(a.datasetId, { offset: a.offset, limit: a.limit }), total: ds.exampleCount, offset: a.offset };
    },
    getExample: (a) => need(store.datasets.example(a.exampleId), `example ${a.exampleId}`, 'exampleId'),
    listModels: () => store.models.list().map(modelEntry),
    async inspectModel(a) {
      const file = fileOf(wb, a.file, 'file');
      const info = await withUserNames(wb, [file], () => wb.engine.call('inspectModel', { path: file.path }));
      return { ...info, name: file.name };
    },
    async registerModel(a) {
      const file = fileOf(wb, a.file, 'file');
      const r = await withUserNames(wb, [file], () =>
        wb.engine.call('registerModel', {
          dbFile: wb.options.dbFile,
          path: file.path,
          // An upload is a temporary file: it moves under the data directory (no second copy). A
          // dialog-chosen file is registered where it is.
          ...(file.owned ? { moveTo: join(wb.options.dataDir, 'models') } : {}),
          displayName: file.name,
        }),
      );
      const model = need(store.models.get(r.modelId), 'model', 'file');
      if (file.owned) wb.files.moved(a.file, model.path);
      wb.emit({ type: 'models-changed' });
      return { model, inspection: { ...r.inspection, name: file.name } };
    },
    // ---- model catalogue and downloads ----
    async downloadModel(a) {
      const downloadId = nextDownloadId++;
      const directory = modelsDir(wb);
      if (a.entry !== undefined) {
        const e = entryOf(wb, a.entry);
        if (!isRunnable(e)) throw new ApiError('invalid', `${e.title}: ${notRunnable(e)}; not downloaded`, { entry: notRunnable(e) });
        if (e.sha256 === null && a.acceptUnverified !== true) {
          throw new ApiError('invalid', `${e.title}: hash not published — verification unavailable; download it only if you accept an unverified file (acceptUnverified)`, {
            acceptUnverified: 'hash not published — verification unavailable: confirm to download without verification',
          });
        }
        const running = [...downloadStates(wb).values()].find((d) => d.entry === e.name && (d.status === 'running' || d.status === 'verifying'));
        if (running) return { downloadId: running.downloadId };
        await wb.engine.call('downloadEntry', {
          dbFile: wb.options.dbFile, directory, downloadId, entry: e.name, title: e.title, url: e.url, file: e.file, sha256: e.sha256, expectedBytes: e.sizeBytes,
        });
        return { downloadId };
      }
      await wb.engine.call('downloadModel', { dbFile: wb.options.dbFile, address: a.address!, directory, downloadId });
      return { downloadId };
    },
    cancelDownload: (a) => wb.engine.call('cancelDownload', { downloadId: a.downloadId }),
    pauseDownload: (a) => wb.engine.call('pauseDownload', { downloadId: a.downloadId }),
    discardDownload(a) {
      const e = entryOf(wb, a.entry);
      const active = [...downloadStates(wb).values()].some((d) => d.entry === e.name && (d.status === 'running' || d.status === 'verifying'));
      if (active) throw new ApiError('conflict', `${e.title} is downloading: cancel it instead`);
      const had = partialDownload(modelsDir(wb), e.file) !== null;
      discardPartialDownload(modelsDir(wb), e.file);
      return { discarded: had };
    },
    listCatalogue(): CatalogueItem[] {
      const dir = modelsDir(wb);
      const models = store.models.list();
      const machine = { freeBytes: freemem(), totalBytes: totalmem() };
      const states = [...downloadStates(wb).values()];
      return wb.catalogue.map((e) => {
        const part = partialDownload(dir, e.file);
        const model = models.find((m) => (e.sha256 !== null && m.sha256 === e.sha256) || m.path === join(dir, e.file));
        const download = states.filter((d) => d.entry === e.name).at(-1) ?? null;
        const { hparams: _hparams, ...facts } = e;
        return {
          ...facts, runnable: isRunnable(e), ...(isRunnable(e) ? {} : { notRunnable: notRunnable(e) }),
          fit: catalogueFit(e, machine),
          // a part of another URL is not this entry's (the downloader discards it when this entry starts)
          partBytes: part && part.url === e.url ? part.bytes : 0,
          modelId: model?.id ?? null,
          download,
        };
      });
    },
    listStudies: (a) => store.studies.list({ latestOnly: !a.allVersions }),
    getStudy: (a) => need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId'),
    builtinStudies: () => builtinStudies(),
    validateStudyConfig(a): StudyValidation {
      let config: unknown;
      try {
        config = withSettingsDefaults(apiStudyConfig(a.config, wb.files), readSettings(settingsFile(wb)).settings);
      } catch (e) {
        // a refused path or an unreadable definitions file is a field problem, shown next to its field
        if (e instanceof ApiError && e.fields) return { ok: false, fields: e.fields };
        throw e;
      }
      const r = parseStudyConfig(config);
      const labels = labelsOfDraft(store, config);
      const labelFields: Record<string, string> = labels && !labels.ok ? { 'task.labelMap': labelField(labels) } : {};
      // the mapping chosen at import, for the form's label-mapping editor to start from
      const fromDataset = labels ? labelMapForTask(store.datasets.get(labels.dataset.id)?.labelMap, labels.options) : undefined;
      const extra = { ...(labels ? { labels } : {}), ...(fromDataset ? { datasetLabelMap: fromDataset } : {}) };
      if (r.ok) {
        // a model without a usable chat template is a problem of the form, before anything runs
        const fields = { ...labelFields, ...modelFields(store, r.config) };
        return { ok: (!labels || labels.ok) && Object.keys(fields).length === 0, fields, config: r.config, ...extra };
      }
      const fields: Record<string, string> = { ...labelFields };
      for (const e of r.errors) fields[e.path] = fields[e.path] ? `${fields[e.path]}; ${e.message}` : e.message;
      return { ok: false, fields, ...extra };
    },
    saveStudy(a) {
      // parsed once, here, where the study comes in; the store keeps the validated configuration as it is
      // a new study's limits default to the settings' context size and threads (config/settings.ts)
      const config = withSettingsDefaults(apiStudyConfig(a.config, wb.files), readSettings(settingsFile(wb)).settings);
      // the name argument is the study's name (the form sends it apart from the configuration)
      const named = config && typeof config === 'object' && !Array.isArray(config) ? { ...config, name: a.name } : config;
      const parsed = parseStudyConfig(named);
      if (!parsed.ok) {
        const fields: Record<string, string> = {};
        for (const i of parsed.errors) fields[i.path] = i.message;
        throw new ApiError('invalid', new StudyConfigError(parsed.errors).message, fields);
      }
      refuseUnmappedLabels(store, parsed.config);
      refuseUnusableModels(store, parsed.config);
      const id = a.studyId === undefined ? store.studies.create(a.name, parsed.config) : store.studies.update(a.studyId, parsed.config, a.name);
      return { study: need(store.studies.get(id), 'study', 'studyId') };
    },
    previewPrompt: (a) =>
      wb.engine.call('previewPrompt', { dbFile: wb.options.dbFile, config: apiStudyConfig(a.config, wb.files), modelId: a.modelId, exampleId: a.exampleId }),
    listRuns: (a) => store.runs.list(a.studyId !== undefined ? { studyId: a.studyId } : {}),
    getRun: (a) => need(store.runs.get(a.runId), `run ${a.runId}`, 'runId'),
    // ---- runs (issue 12 items 2 and 7): answers come from the engine job, failures are stored with the runs
    async startRun(a) {
      const queue = checkedQueue(a.queue);
      const study = need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId');
      const config = storedConfig(study);
      // answered here, at once, rather than as a failure of the background job (e.g. a study saved before this check)
      refuseUnmappedLabels(store, config);
      refuseUnusableModels(store, config);
      // no run can exist without its dataset and models: refused with the fields named (run-preflight.ts)
      const missing = runPreflight(store, config);
      if (Object.keys(missing).length) throw new ApiError('failed', `study ${a.studyId} did not start: ${describePreflight(missing)}`, missing);
      const r = await wb.engine.call('startStudy', { dbFile: wb.options.dbFile, studyId: a.studyId, resume: false, appVersion: wb.options.version, ...(queue ? { queue } : {}) });
      if (!r.started) throw new ApiError('conflict', `study ${a.studyId} is already running`);
      if (queue) rememberQueue(wb, r.runIds, queue);
      // No run was made: the study failed before its first run (its reason); runs that failed carry theirs.
      if (!r.runIds.length) throw new ApiError('failed', `study ${a.studyId} did not start: ${r.error ?? 'it made no run'}`);
      return { runIds: r.runIds };
    },
    pauseRun: (a) => stopRun(wb, a.runId, 'paused'),
    cancelRun: (a) => stopRun(wb, a.runId, 'stopped'),
    /**
     * Resumes the run and, as Pause paused them together, the other paused runs of its study: the study
     * continues them one after the other (they wait as queued). Stopped (cancelled) and failed runs of the
     * study are left as they are unless resumed themselves.
     */
    async resumeRun(a) {
      const given = checkedQueue(a.queue);
      const run = need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      if (run.status === 'done') throw new ApiError('conflict', `run ${a.runId} is already done`);
      const queue = resumeQueue(wb, a.runId, given);
      const config = storedConfig(need(store.studies.get(run.studyId), `study ${run.studyId}`, 'studyId'));
      // The study cannot continue (e.g. its dataset is gone): the run carries the reason, so the failure is
      // still visible after a reload, and the answer says it.
      const failBefore = (reason: string): never => {
        store.runs.finish(a.runId, { status: 'failed', error: `resume failed before the run continued: ${reason}` });
        wb.emit({ type: 'run-progress', run: store.runs.get(a.runId)! });
        throw new ApiError('failed', `run ${a.runId} did not resume: ${reason}`);
      };
      const missing = runPreflight(store, config);
      if (Object.keys(missing).length) failBefore(describePreflight(missing));
      const paused = store.runs.list({ studyId: run.studyId }).filter((r) => r.status === 'paused' && r.id !== a.runId).map((r) => r.id);
      const r = await wb.engine.call('startStudy', { dbFile: wb.options.dbFile, studyId: run.studyId, resume: true, appVersion: wb.options.version, runIds: [a.runId, ...paused], ...(queue ? { queue } : {}) });
      if (!r.started) throw new ApiError('conflict', `study ${run.studyId} is already running`);
      if (queue) rememberQueue(wb, r.runIds, queue);
      const now = r.runs.find((x) => x.id === a.runId);
      if (now) return now;
      if (r.error !== undefined) failBefore(r.error);
      return need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
    },
    listResults(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      // Relevance vectors are large: the list leaves them out; getResult has them.
      const all = store.results.list(a.runId, { relevance: false });
      const page = (rs: ResultRecord[]) => rs.slice(a.offset, a.offset + a.limit).map(plainResult);
      if (!a.filter) return { items: page(all), total: all.length, offset: a.offset, runTotal: all.length };
      // The Results screen's selection for this one run (the same code that counts Results' examples).
      const sel = selectResults(store, { ...a.filter, runIds: [a.runId] });
      const chosen = sel.chosen.get(a.runId);
      const run = chosen ? 'in' : sel.pending.includes(a.runId) ? 'pending' : 'out';
      const runsInFilter = chosen ? [] : selectResults(store, a.filter).runs.map((f) => f.runId);
      return { items: page(chosen ?? []), total: chosen?.length ?? 0, offset: a.offset, runTotal: all.length, filtered: { run, runsInFilter } };
    },
    getResult: (a) => plainResult(need(store.results.get(a.runId, a.exampleId), `result of example ${a.exampleId} in run ${a.runId}`, 'exampleId')),
    listMetrics(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      return store.metrics.list(a.runId);
    },
    // In the engine process: "correct or not" recomputes metrics over every chosen result.
    queryMetrics: (a) => wb.engine.call('queryMetrics', { dbFile: wb.options.dbFile, filter: a }),
    // ---- housekeeping (issue 12 item 6): renames, and deletions with the consequences first ----
    renameDataset(a) {
      need(store.datasets.get(a.datasetId), `dataset ${a.datasetId}`, 'datasetId');
      const d = store.datasets.rename(a.datasetId, a.name);
      wb.emit({ type: 'datasets-changed' });
      return d;
    },
    renameModel(a) {
      need(store.models.get(a.modelId), `model ${a.modelId}`, 'modelId');
      const m = store.models.rename(a.modelId, a.name);
      wb.emit({ type: 'models-changed' });
      return m;
    },
    renameStudy(a) {
      need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId');
      return need(store.studies.get(store.studies.rename(a.studyId, a.name)), 'study', 'studyId');
    },
    renameRun(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      return store.runs.rename(a.runId, a.name);
    },
    deleteModel: (a) => remove('model', a.modelId, a.confirm),
    deleteStudy: (a) => remove('study', a.studyId, a.confirm),
    deleteRun: (a) => remove('run', a.runId, a.confirm),
    // ---- import form and study fit (issue 12, items 3 and 5) ----
    async previewDataset(a) {
      const file = fileOf(wb, a.file, 'file');
      const labels = a.labels ? fileOf(wb, a.labels, 'labels') : undefined;
      const preview = await withUserNames(wb, [file, labels], () =>
        wb.engine.call('previewDataset', { path: file.path, format: a.format, language: a.language, labelsPath: labels?.path }),
      );
      return { ...preview, canonicalLabels: canonicalLabels() };
    },
    // ---- issue 15: workers ----
    listQueueRuns(a) {
      const runs = a.runIds ? a.runIds.map((id) => store.runs.get(id)).filter((r) => r !== undefined) : store.runs.list();
      return runs.flatMap((r) => {
        const view = queueRunView(wb, r.id, r.modelId);
        return view ? [view] : [];
      });
    },
    async checkStudyFit(a) {
      const parsed = parseStudyConfig(apiStudyConfig(a.config, wb.files));
      if (!parsed.ok) {
        const fields = Object.fromEntries(parsed.errors.map((e) => [e.path, e.message]));
        throw new ApiError('invalid', `the study configuration has problems: ${parsed.errors[0].path}: ${parsed.errors[0].message}`, fields);
      }
      if (parsed.config.dataset.id !== undefined) need(store.datasets.get(parsed.config.dataset.id), `dataset ${parsed.config.dataset.id}`, 'dataset');
      return wb.engine.call('checkStudyFit', { dbFile: wb.options.dbFile, config: parsed.config });
    },
    async exportRun(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      const dir = join(wb.options.dataDir, 'exports');
      const viaShell = a.format === 'pdf' && wb.options.renderPdf;
      const r = await wb.engine.call('exportRun', { dbFile: wb.options.dbFile, runId: a.runId, format: viaShell ? 'html' : a.format, dir });
      let path = r.path;
      if (viaShell) {
        path = r.path.replace(/\.html$/, '.pdf');
        await wb.options.renderPdf!(r.path, path);
      }
      const h = wb.files.registerPath(path);
      return { name: h.name, bytes: h.size, download: h.handle };
    },
    // ---- Models: chat templates and hardware (issue 12 items 1, 11) ----
    templateFamilies: () => TEMPLATE_FAMILIES.map(({ id, name, markers }) => ({ id, name, markers })),
    previewModelTemplate: async (a) => (await templatePreview(wb, a)).preview,
    async setModelTemplate(a) {
      // stored only once it renders the test chat with the model's own vocabulary
      const { choice, preview } = await templatePreview(wb, a);
      store.models.setTemplate(a.modelId, choice);
      wb.emit({ type: 'models-changed' });
      return { model: modelEntry(need(store.models.get(a.modelId), `model ${a.modelId}`, 'modelId')), preview };
    },
    hardwareInfo: () => wb.engine.call('hardwareInfo', { dbFile: wb.options.dbFile }),
    // ---- welcome, settings (issue 12 items 9 and 13) ----
    firstRunStatus: () => firstRunStatus(wb),
    demoReport() {
      const pdf = demoReportPath(wb.options.dataDir);
      if (!existsSync(pdf)) throw new ApiError('not_found', 'the demo report is not written yet (the first-run demo writes it when its runs are done)');
      const h = wb.files.registerPath(pdf);
      return { name: h.name, bytes: h.size, download: h.handle };
    },
    getSettings: () => settingsView(wb),
    saveSettings(a) {
      const file = settingsFile(wb);
      const before = readSettings(file).settings;
      let dataDir = before.dataDir;
      if (a.dataDir !== undefined) {
        if (wb.options.mode !== 'electron') {
          throw new ApiError('invalid', 'browser mode does not change the data directory: start it with --data-dir DIR (or RW_DATA_DIR), or change it in the desktop app’s Settings', { dataDir: 'not changed from browser mode' });
        }
        dataDir = a.dataDir === 'default' ? null : fileOf(wb, a.dataDir, 'dataDir').path;
      }
      const next: Settings = { contextSize: a.contextSize, threads: a.threads, dataDir };
      const problems = settingsProblems(next);
      if (Object.keys(problems).length) {
        throw new ApiError('invalid', `settings not saved: ${Object.entries(problems).map(([k, v]) => `${k}: ${v}`).join('; ')}`, problems);
      }
      writeSettings(file, next);
      const view = settingsView(wb);
      const restartNeeded = view.pendingDataDir !== null;
      const message = restartNeeded
        ? `Saved. The data directory changes to ${view.pendingDataDir} when the app starts again; until then it stays ${wb.options.dataDir}.`
        : 'Saved. New studies use this context size and these threads unless they set their own.';
      return { ...view, restartNeeded, message };
    },
  };
}

// ---- issue 15: workers ----

/**
 * The queue addresses of the runs this app session started or resumed on workers, by run id, with their
 * passwords. Kept in memory only, so Pause / Resume in the same session need no retyping; never written
 * (not in the settings, not in the store: the store keeps the address without its password), so after a
 * restart Resume asks for the address again.
 */
const queueAddresses = new WeakMap<Workbench, Map<number, string>>();
function addressesOf(wb: Workbench): Map<number, string> {
  let m = queueAddresses.get(wb);
  if (!m) queueAddresses.set(wb, (m = new Map()));
  return m;
}

function rememberQueue(wb: Workbench, runIds: number[], queue: string): void {
  for (const id of runIds) addressesOf(wb).set(id, queue);
}

/**
 * A queue address from the API, checked with the CLI's rule (main/queue/url.ts) before anything runs; the
 * message names the field and shows the address without its password.
 */
function checkedQueue(queue: string | undefined): string | undefined {
  if (queue === undefined) return undefined;
  try {
    parseQueueUrl(queue, 'queue');
  } catch (e) {
    if (e instanceof QueueUrlError) throw new ApiError('invalid', e.message, { queue: e.message });
    throw e;
  }
  return queue;
}

/**
 * Where a resumed run continues: on the queue given, else on the one this session started it on; a run that
 * was computed on workers (its stored queue record) and whose address this session does not hold is
 * refused with the address to give again (its password is not kept). A local run resumes locally.
 */
function resumeQueue(wb: Workbench, runId: number, given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const known = addressesOf(wb).get(runId);
  if (known !== undefined) return known;
  const stored = queueStatus(wb.store, runId);
  if (stored) {
    const why = `run ${runId} is computed on workers (${stored.run.queue}): give the queue address again to resume it (its password is not kept after the app stops)`;
    throw new ApiError('invalid', why, { queue: why });
  }
  return undefined;
}

/** A run's stored queue records, as the Run monitor shows them; undefined for a local run. */
function queueRunView(wb: Workbench, runId: number, modelId: number): QueueRunView | undefined {
  const st = queueStatus(wb.store, runId);
  if (!st) return undefined;
  const model = wb.store.models.get(modelId);
  return {
    runId,
    queue: st.run.queue,
    modelName: model ? String(model.metadata.displayName ?? model.path.split(/[\\/]/).pop()) : `model ${modelId}`,
    modelSha256: st.run.modelSha256,
    note: st.run.note,
    workers: st.workers.map(({ runId: _runId, ...w }) => w),
    addressKnown: addressesOf(wb).has(runId),
    updatedAt: st.run.updatedAt,
  };
}

// ---- settings (issue 12 item 13) ----

const settingsFile = (wb: Workbench) => wb.options.settingsFile ?? settingsFileIn(defaultConfigDir());

/** The built-in defaults of a study's limits (what applies when a setting is null): the schema's own. */
function schemaLimitDefaults(): { contextSize: number; threads: number } {
  const r = parseStudyConfig({ name: 'defaults', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ id: 1 }] });
  if (!r.ok) throw new Error('the study schema refused its own minimal configuration');
  return { contextSize: r.config.limits.maxContextTokens, threads: r.config.limits.threads };
}

function settingsView(wb: Workbench): SettingsView {
  const file = settingsFile(wb);
  const { settings, problems } = existsSync(file) ? readSettings(file) : { settings: { ...NO_SETTINGS }, problems: {} };
  const defaults = schemaLimitDefaults();
  const current = resolvePath(wb.options.dataDir);
  const env = process.env.RW_DATA_DIR ? resolvePath(process.env.RW_DATA_DIR) : null;
  const source: SettingsView['dataDirSource'] =
    wb.options.dataDirSource ??
    (env === current ? 'environment' : settings.dataDir !== null && resolvePath(settings.dataDir) === current ? 'settings' : current === resolvePath(defaultConfigDir()) ? 'default' : 'command line');
  // RW_DATA_DIR wins over the setting at the next start too; else the setting, else the config directory.
  const next = env ?? (settings.dataDir !== null ? resolvePath(settings.dataDir) : resolvePath(defaultConfigDir()));
  return {
    settings,
    effective: { contextSize: settings.contextSize ?? defaults.contextSize, threads: settings.threads ?? defaults.threads, dataDir: current },
    dataDirSource: source,
    // given on the command line (--data-dir), it stays what the next command line says
    pendingDataDir: source === 'command line' || next === current ? null : next,
    dataDirEditable: wb.options.mode === 'electron',
    threadsMax: maxThreads(),
    problems,
    file,
  };
}
