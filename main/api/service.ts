import { EventEmitter } from 'node:events';
import { freemem, totalmem } from 'node:os';
import { z } from 'zod';
import { parseStudyConfig, StudyConfigError } from '../config/study-schema';
import { openStore, type Store } from '../store';
import { builtinStudies } from './builtins';
import { issuesToFields, requests, type ModelFit, type ParsedRequest, type Responses, type WorkbenchEvent } from './catalogue';
import { Engine } from './engine';
import { ApiError, type Envelope } from './errors';
import { FileHandles, type FileEntry } from './files';
import { METHOD_NAMES, type MethodName } from './methods';
import { importReport } from './reports';
import { toErrorData } from './to-error';
import type { ResultRecord } from '../store/types';
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
}

type Impl = { [M in MethodName]: (arg: ParsedRequest<M>) => Promise<Responses[M]> | Responses[M] };

export class Workbench {
  readonly files: FileHandles;
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly engine: Engine;
  private readonly impl: Impl;

  constructor(readonly options: WorkbenchOptions) {
    this.store = openStore(options.dbFile);
    this.files = new FileHandles(options.uploadDir ?? `${options.dataDir}/uploads`);
    this.engine = new Engine({
      hostEntry: options.engineHostEntry,
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

/**
 * A study saved from the GUI names registered models by id: a model path inside a config would let
 * the renderer point the engine at any file. (The CLI, which the user types, may use paths.)
 */
function rejectModelPaths(config: unknown) {
  const models = (config as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return;
  const fields: Record<string, string> = {};
  models.forEach((m, i) => {
    if (m && typeof m === 'object' && 'path' in m) fields[`models[${i}].path`] = 'choose a registered model (by id); file paths are not accepted here';
  });
  if (Object.keys(fields).length) throw new ApiError('invalid', `study: ${Object.values(fields)[0]}`, fields);
}

/** Rough memory need of a GGUF: its weights plus a small context and runtime overhead. */
export function modelFit(fileSize: number, contextLength: number | null): ModelFit {
  const kvGuess = Math.min(contextLength ?? 4096, 4096) * 256 * 1024 * 0.0005; // ~0.5 MB per 1k ctx for tiny, grows with model
  const needBytes = Math.round(fileSize * 1.1 + 64 * 2 ** 20 + kvGuess);
  const freeBytes = freemem();
  const fits = needBytes < totalmem() * 0.8;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(n < 2 ** 30 ? 2 : 1)} GiB`;
  return {
    needBytes,
    freeBytes,
    fits,
    note: fits
      ? `needs about ${gib(needBytes)}; ${gib(freeBytes)} free of ${gib(totalmem())}`
      : `needs about ${gib(needBytes)}, more than 80 % of this machine's ${gib(totalmem())}`,
  };
}

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
      features: { datasets: true, models: true, studies: true, runs: false, prompts: false, export: false },
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
      return { ...info, name: file.name, fit: modelFit(info.size, info.contextLength) };
    },
    async registerModel(a) {
      const file = fileOf(wb, a.file, 'file');
      const info = await withUserNames(wb, [file], () => wb.engine.call('inspectModel', { path: file.path }));
      const inspection = { ...info, name: file.name, fit: modelFit(info.size, info.contextLength) };
      const id = store.models.register({
        path: file.path,
        sha256: info.sha256,
        fileSize: info.size,
        architecture: info.architecture,
        parameterCount: info.parameterCount,
        quantization: info.quantization,
        contextLength: info.contextLength,
        chatTemplate: info.chatTemplate,
        metadata: { ...info.metadata, displayName: file.name },
      });
      wb.emit({ type: 'models-changed' });
      return { model: need(store.models.get(id), 'model', 'file'), inspection };
    },
    listStudies: () => store.studies.list({ latestOnly: true }),
    getStudy: (a) => need(store.studies.get(a.studyId), `study ${a.studyId}`, 'studyId'),
    builtinStudies: () => builtinStudies(),
    validateStudyConfig(a) {
      const r = parseStudyConfig(a.config);
      if (r.ok) return { ok: true, fields: {}, config: r.config };
      const fields: Record<string, string> = {};
      for (const e of r.errors) fields[e.path] = fields[e.path] ? `${fields[e.path]}; ${e.message}` : e.message;
      return { ok: false, fields };
    },
    saveStudy(a) {
      rejectModelPaths(a.config);
      try {
        const id = a.studyId === undefined ? store.studies.create(a.name, a.config) : store.studies.update(a.studyId, a.config, a.name);
        return { study: need(store.studies.get(id), 'study', 'studyId') };
      } catch (e) {
        if (e instanceof StudyConfigError) {
          const fields: Record<string, string> = {};
          for (const i of e.errors) fields[i.path] = i.message;
          throw new ApiError('invalid', e.message, fields);
        }
        throw e;
      }
    },
    previewPrompt: () => unavailable('the prompt preview (main/protocol)'),
    listRuns: (a) => store.runs.list(a.studyId !== undefined ? { studyId: a.studyId } : {}),
    getRun: (a) => need(store.runs.get(a.runId), `run ${a.runId}`, 'runId'),
    startRun: () => unavailable('running studies (main/runner)'),
    pauseRun: () => unavailable('running studies (main/runner)'),
    resumeRun: () => unavailable('running studies (main/runner)'),
    cancelRun: () => unavailable('running studies (main/runner)'),
    listResults(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      // Relevance vectors are large: the list leaves them out; getResult has them.
      const all = store.results.list(a.runId, { relevance: false });
      return { items: all.slice(a.offset, a.offset + a.limit).map(plainResult), total: all.length, offset: a.offset };
    },
    getResult: (a) => plainResult(need(store.results.get(a.runId, a.exampleId), `result of example ${a.exampleId} in run ${a.runId}`, 'exampleId')),
    listMetrics(a) {
      need(store.runs.get(a.runId), `run ${a.runId}`, 'runId');
      return store.metrics.list(a.runId);
    },
    exportRun: () => unavailable('export (main/reports)'),
  };
}
