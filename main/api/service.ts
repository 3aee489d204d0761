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
import { selectResults } from './result-filter';
import { apiStudyConfig } from './study-input';
import { describePreflight, runPreflight } from './run-preflight';
import { toErrorData } from './to-error';
import type { ResultRecord, StudyRecord } from '../store/types';
import type { PlainResult } from './catalogue';

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

  constructor(readonly options: WorkbenchOptions) {
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

let nextDownloadId = 1;

function makeImpl(wb: Workbench): Impl {
  const { store } = wb;
  const need = <T>(v: T | undefined, what: string, field: string): T => {
    if (v === undefined) throw new ApiError('not_found', `${what} not found`, { [field]: `${what} not found` });
    return v;
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
      }));
      wb.emit({ type: 'datasets-changed' });
      const dataset = need(store.datasets.get(datasetId), 'dataset', 'file');
      return importReport(dataset, store.datasets.examples(datasetId));
    },
    deleteDataset(a) {
      const deleted = store.datasets.delete(a.datasetId);
      if (deleted) wb.emit({ type: 'datasets-changed' });
      return { deleted };
    },
    listExamples(a) {
      const ds = need(store.datasets.get(a.datasetId), `dataset ${a.datasetId}`, 'datasetId');
      return { items: store.datasets.examples(a.datasetId, { offset: a.offset, limit: a.limit }), total: ds.exampleCount, offset: a.offset };
    },
    getExample: (a) => need(store.datasets.example(a.exampleId), `example ${a.exampleId}`, 'exampleId'),
    listModels: () => store.models.list(),
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
    async downloadModel(a) {
      const downloadId = nextDownloadId++;
      await wb.engine.call('downloadModel', { dbFile: wb.options.dbFile, address: a.address, directory: join(wb.options.dataDir, 'models'), downloadId });
      return { downloadId };
    },
    cancelDownload: (a) => wb.engine.call('cancelDownload', { downloadId: a.downloadId }),
    listStudies: () => store.studies.list({ latestOnly: true }),
    getStudy: (a) => need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId'),
    builtinStudies: () => builtinStudies(),
    validateStudyConfig(a): StudyValidation {
      let config: unknown;
      try {
        config = apiStudyConfig(a.config, wb.files);
      } catch (e) {
        // a refused path or an unreadable definitions file is a field problem, shown next to its field
        if (e instanceof ApiError && e.fields) return { ok: false, fields: e.fields };
        throw e;
      }
      const r = parseStudyConfig(config);
      const labels = labelsOfDraft(store, config);
      const labelFields: Record<string, string> = labels && !labels.ok ? { 'task.labelMap': labelField(labels) } : {};
      if (r.ok) return { ok: !labels || labels.ok, fields: labelFields, config: r.config, ...(labels ? { labels } : {}) };
      const fields: Record<string, string> = { ...labelFields };
      for (const e of r.errors) fields[e.path] = fields[e.path] ? `${fields[e.path]}; ${e.message}` : e.message;
      return { ok: false, fields, ...(labels ? { labels } : {}) };
    },
    saveStudy(a) {
      // parsed once, here, where the study comes in; the store keeps the validated configuration as it is
      const config = apiStudyConfig(a.config, wb.files);
      // the name argument is the study's name (the form sends it apart from the configuration)
      const named = config && typeof config === 'object' && !Array.isArray(config) ? { ...config, name: a.name } : config;
      const parsed = parseStudyConfig(named);
      if (!parsed.ok) {
        const fields: Record<string, string> = {};
        for (const i of parsed.errors) fields[i.path] = i.message;
        throw new ApiError('invalid', new StudyConfigError(parsed.errors).message, fields);
      }
      refuseUnmappedLabels(store, parsed.config);
      const id = a.studyId === undefined ? store.studies.create(a.name, parsed.config) : store.studies.update(a.studyId, parsed.config, a.name);
      return { study: need(store.studies.get(id), 'study', 'studyId') };
    },
    previewPrompt: (a) =>
      wb.engine.call('previewPrompt', { dbFile: wb.options.dbFile, config: apiStudyConfig(a.config, wb.files), modelId: a.modelId, exampleId: a.exampleId }),
    listRuns: (a) => store.runs.list(a.studyId !== undefined ? { studyId: a.studyId } : {}),
    getRun: (a) => need(store.runs.get(a.runId), `run ${a.runId}`, 'runId'),
    // ---- runs (issue 12 items 2 and 7): answers come from the engine job, failures are stored with the runs
    async startRun(a) {
      const study = need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId');
      const config = storedConfig(study);
      // answered here, at once, rather than as a failure of the background job (e.g. a study saved before this check)
      refuseUnmappedLabels(store, config);
      // no run can exist without its dataset and models: refused with the fields named (run-preflight.ts)
      const missing = runPreflight(store, config);
      if (Object.keys(missing).length) throw new ApiError('failed', `study ${a.studyId} did not start: ${describePreflight(missing)}`, missing);
      const r = await wb.engine.call('startStudy', { dbFile: wb.options.dbFile, studyId: a.studyId, resume: false, appVersion: wb.options.version });
      if (!r.started) throw new ApiError('conflict', `study ${a.studyId} is already running`);
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
      const run = need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      if (run.status === 'done') throw new ApiError('conflict', `run ${a.runId} is already done`);
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
      const r = await wb.engine.call('startStudy', { dbFile: wb.options.dbFile, studyId: run.studyId, resume: true, appVersion: wb.options.version, runIds: [a.runId, ...paused] });
      if (!r.started) throw new ApiError('conflict', `study ${run.studyId} is already running`);
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
  };
}
