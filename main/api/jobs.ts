/**
 * The engine's jobs, run inside the engine child process (engine-host.ts). Each job opens its own
 * connection to the database file (WAL lets the main process keep reading meanwhile).
 */
import { importInto } from '../datasets';
import { openStore, type Store } from '../store';
import { runStudies, type StudyRunOptions } from '../runner';
import type { StudyToRun } from '../studies/builtins';
import { buildReportData } from '../reports/build';
import { writeExports } from '../reports/exports';
import { renderReportHtml } from '../reports/html';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadModel, inspectModel, registerModel } from '../models/registry';
import { DownloadError, downloadVerified, DownloadInterrupted, HashMismatchError } from '../models/registry-download';
import type { DownloadState } from './catalogue';
import type { RunRecord } from '../store/types';
import { toInspection, type ModelInspectionData } from './model-info';
import { previewPrompt } from './preview';
import { checkStudyFit } from './study-fit';
import { previewDataset, type DatasetPreview } from '../datasets/preview';
import { firstRunDemo, type FirstRunDemoArgs } from './first-run-demo';
import { queryMetrics, type MetricsFilter, type MetricsQueryResult } from './metrics-query';
import { renderTemplateChat } from './model-template';
import { detectHardware } from '../models/hardware';
import { inspectHeader } from '../models/registry';
import { ramFit, vramFit } from './model-info';
import { estimateFit } from '../models/registry-fit';
import type { HardwareReport, ModelHardwareFit } from './catalogue';

export interface ImportJobArgs {
  dbFile: string;
  path: string;
  /** The name the user saw, used as the default dataset name (uploads are stored under our own name). */
  displayName: string;
  format: 'msst' | 'rafola' | 'climate-fever' | 'csv' | 'jsonl';
  language?: string;
  name?: string;
  labelsPath?: string;
  /** The import form's label mapping, stored with the dataset. */
  labelMap?: Record<string, string | null>;
}

/** Studies running in this process, by study id: aborting stops them cleanly after the example in flight. */
const downloads = new Map<number, AbortController>();
/** Catalogue downloads under way in this process, by target file (directory + name). */
const downloadingFiles = new Set<string>();

/** What a launch knows of its study: how to stop it, how it was asked to stop, and when it has stopped. */
interface ActiveStudy {
  controller: AbortController;
  then: 'paused' | 'stopped';
  /** The study's runs as they ended, once it stopped (final statuses stored and sent as events). */
  finished: Promise<RunRecord[]>;
}

const active = new Map<number, ActiveStudy>();

function runsOf(store: Store, studyId: number) {
  return store.runs.list({ studyId });
}

export interface LaunchArgs {
  dbFile: string;
  studyId: number;
  resume: boolean;
  appVersion: string;
  /** With resume: only these runs (the clicked one and its study's paused ones), see StudyRunOptions.resumeOnly. */
  runIds?: number[];
  /**
   * issue 15: workers. The queue address (with its password: it goes to the connection only): the study's
   * examples are computed by queue workers, this process being the study's owner, exactly as `run --queue`.
   */
  queue?: string;
}

export interface Launched {
  /** Settles when the runner stops (done, failed, paused or stopped), with the study's runs as they ended. */
  finished: Promise<RunRecord[]>;
  /** The runs this launch made or took up again, as soon as the runner has them (before any model loads); null when it stopped before. */
  runs: Promise<number[] | null>;
  error: () => string | undefined;
}

/**
 * Starts a stored study in the background of this process; null when it is already running.
 * `finished` settles when the runner stops (done, failed, paused or stopped), after the runs'
 * final statuses are stored and sent as events.
 */
function launchStudy(a: LaunchArgs, emit: (e: unknown) => void): Launched | null {
  if (active.has(a.studyId)) return null;
  const store = openStore(a.dbFile);
  const study = store.studies.get(a.studyId);
  if (!study) {
    store.close();
    throw Object.assign(new Error(`study ${a.studyId} not found`), { name: 'StoreError' });
  }
  const controller = new AbortController();
  let resolveRuns!: (ids: number[] | null) => void;
  const runs = new Promise<number[] | null>((r) => (resolveRuns = r));
  const entry: ActiveStudy = { controller, then: 'stopped', finished: undefined as unknown as Promise<RunRecord[]> };
  active.set(a.studyId, entry);
  const progress = () => {
    for (const run of runsOf(store, a.studyId)) if (run.status === 'running' || run.status === 'queued') emit({ type: 'run-progress', run });
  };
  const ticker = setInterval(progress, 1000);
  // the stored configuration carries everything, indicator definitions text included: no path is read;
  // it was validated when it was saved, and runs as stored, without being parsed again (store/studies-repo.ts)
  const stored = { name: study.name, file: `study ${study.id}`, validated: study.config, studyId: study.id };
  let error: string | undefined;
  entry.finished = runStudy(store, stored, a.queue, {
    resume: a.resume,
    ...(a.resume && a.runIds ? { resumeOnly: a.runIds } : {}),
    signal: controller.signal,
    appVersion: a.appVersion,
    log: () => {},
    afterStore: () => progress(),
    onRuns: (_studyId, ids) => {
      resolveRuns(ids);
      progress();
    },
  })
    .then(() => undefined)
    // the reason goes to the study's unfinished runs below, and to startStudy's answer when there are none
    .catch((e: Error) => void (error = e.message))
    .then(() => {
      clearInterval(ticker);
      active.delete(a.studyId);
      const ended: RunRecord[] = [];
      for (const run of runsOf(store, a.studyId)) {
        // A pause is a stop that the user means to resume; the runner itself only knows "stopped".
        // A run still queued when stopped (model loading) never started: it takes the stop's status too.
        const stoppedHere = controller.signal.aborted && (run.status === 'stopped' || run.status === 'queued' || run.status === 'running');
        if (stoppedHere && run.status !== entry.then) store.runs.setStatus(run.id, entry.then);
        // The runner failed while this run was queued or under way: it fails with the runner's reason.
        else if (error !== undefined && (run.status === 'queued' || run.status === 'running')) store.runs.finish(run.id, { status: 'failed', error });
        const now = store.runs.get(run.id)!;
        ended.push(now);
        emit({ type: 'run-progress', run: now });
        if (now.status === 'failed' && now.error) emit({ type: 'run-error', runId: now.id, message: now.error });
      }
      store.close();
      resolveRuns(null);
      // internal (engine.ts): the study stopped, its own process may end
      emit({ type: 'study-finished', studyId: a.studyId });
      return ended;
    });
  return { finished: entry.finished, runs, error: () => error };
}

export type LaunchStudy = typeof launchStudy;

// ---- issue 15: workers ----
/**
 * The study run here, or, with a queue address, computed by queue workers with this process as its owner
 * (main/queue/, loaded only then), as `run --queue`: the address was checked by the service (checkedQueue);
 * the owner's defaults (3 attempts per job; runs wait 10 minutes for a worker with their model, then fail
 * with the reason).
 */
async function runStudy(store: Store, study: StudyToRun, queue: string | undefined, opts: StudyRunOptions): Promise<unknown> {
  if (queue === undefined) return runStudies(store, [study], opts);
  const { runStudiesOnQueue } = await import('../queue');
  return runStudiesOnQueue(store, [study], queue, opts);
}

export const jobs = {
  async importDataset(a: ImportJobArgs): Promise<{ datasetId: number }> {
    const store = openStore(a.dbFile);
    try {
      // staged and all or nothing: a failed import leaves the database as it was (CSV/JSONL streamed)
      const datasetId = importInto(a.path, {
        format: a.format,
        ...(a.language ? { language: a.language } : {}),
        name: a.name ?? a.displayName.replace(/\.[^.]+$/, ''),
        ...(a.labelsPath ? { labelsFile: a.labelsPath } : {}),
        ...(a.labelMap ? { labelMap: a.labelMap } : {}),
        // the app's messages point to the import form's fields, not to command-line flags
        where: 'gui',
      }, (meta) => store.datasets.beginImport(meta));
      return { datasetId };
    } finally {
      store.close();
    }
  },

  /** The import form's dry run (datasets/preview.ts): parsed and validated as the import would, nothing stored. */
  async previewDataset(a: Omit<ImportJobArgs, 'dbFile' | 'displayName' | 'name' | 'labelMap'>): Promise<DatasetPreview> {
    return previewDataset(a.path, {
      format: a.format,
      ...(a.language ? { language: a.language } : {}),
      ...(a.labelsPath ? { labelsFile: a.labelsPath } : {}),
      where: 'gui',
    });
  },

  /** The study form's fit check (study-fit.ts): each model's tokenizer against the run's context. */
  checkStudyFit,

  async inspectModel(a: { path: string }): Promise<ModelInspectionData> {
    return toInspection(await inspectModel(a.path));
  },

  /** Registers through the registry; `moveTo` moves an upload (a temporary file) under the data directory. */
  async registerModel(a: { dbFile: string; path: string; moveTo?: string; displayName: string }): Promise<{ modelId: number; inspection: ModelInspectionData }> {
    const store = openStore(a.dbFile);
    try {
      const { id, info } = await registerModel(store, a.path, a.moveTo ? { moveTo: a.moveTo } : {});
      const rec = store.models.get(id)!;
      store.models.register({ ...rec, metadata: { ...rec.metadata, displayName: a.displayName } });
      return { modelId: id, inspection: await toInspection(info) };
    } finally {
      store.close();
    }
  },

  /**
   * Starts (or, with resume, continues) a stored study in the background of this process and answers once
   * its runs exist, with their ids and records as they are then (the runner says which, api/runner
   * onRuns): no polling of the store. A study that ended before making a run answers the reason.
   */
  async startStudy(a: LaunchArgs, emit: (e: unknown) => void): Promise<{ started: boolean; runIds: number[]; runs: RunRecord[]; error?: string }> {
    const launched = launchStudy(a, emit);
    if (!launched) return { started: false, runIds: [], runs: [] };
    const runIds = await launched.runs;
    if (runIds !== null && runIds.length) {
      const store = openStore(a.dbFile);
      try {
        return { started: true, runIds, runs: runIds.map((id) => store.runs.get(id)!).filter(Boolean) };
      } finally {
        store.close();
      }
    }
    // ended (or will end) without a run to make or continue (dataset, model, definitions...): the answer carries the reason
    const ended = await launched.finished;
    const error = launched.error();
    const mine = runIds ? ended.filter((r) => runIds.includes(r.id)) : [];
    return { started: true, runIds: mine.map((r) => r.id), runs: mine, ...(error !== undefined ? { error } : {}) };
  },

  /** The studies running in this process (engine.ts asks the shared process before starting one elsewhere). */
  async activeStudies(): Promise<{ studyIds: number[] }> {
    return { studyIds: [...active.keys()] };
  },

  /** The first-run demo (see first-run-demo.ts): datasets, demo model, the built-in demo studies, its report. */
  firstRunDemo: (a: FirstRunDemoArgs, emit: (e: unknown) => void) => firstRunDemo(a, emit, launchStudy),

  /**
   * Stops a study running here after the example in flight, and answers once it has stopped, with its runs
   * as they ended (paused or stopped, or done/failed when they got there first); stopping: false when the
   * study is not running in this process.
   */
  async stopStudy(a: { studyId: number; then: 'paused' | 'stopped' }): Promise<{ stopping: boolean; runs: RunRecord[] }> {
    const e = active.get(a.studyId);
    if (!e) return { stopping: false, runs: [] };
    e.then = a.then;
    e.controller.abort();
    return { stopping: true, runs: await e.finished };
  },

  /** Writes a run's export (PDF report, CSV or JSONL of per-example results) under dir. */
  async exportRun(a: { dbFile: string; runId: number; format: 'pdf' | 'html' | 'csv' | 'jsonl'; dir: string }): Promise<{ path: string; bytes: number }> {
    mkdirSync(a.dir, { recursive: true });
    const path = join(a.dir, `run-${a.runId}.${a.format}`);
    const store = openStore(a.dbFile);
    try {
      if (a.format === 'pdf') {
        // Loaded only here: playwright-core is a devDependency (CLI and browser mode); the packaged app
        // prints through the shell's printToPDF and never reaches this line.
        const { htmlToPdf } = await import('../reports/pdf');
        await htmlToPdf(renderReportHtml(buildReportData(store, [a.runId])), path);
      }
      else if (a.format === 'html') writeFileSync(path, renderReportHtml(buildReportData(store, [a.runId])));
      else writeExports(store, [a.runId], { [a.format]: path });
    } finally {
      store.close();
    }
    return { path, bytes: statSync(path).size };
  },

  previewPrompt,

  /** The Results screen's filtered metrics (metrics-query.ts); here because recomputing reads every result's relevance. */
  async queryMetrics(a: { dbFile: string; filter: MetricsFilter }): Promise<MetricsQueryResult> {
    const store = openStore(a.dbFile);
    try {
      return queryMetrics(store, a.filter);
    } finally {
      store.close();
    }
  },

  /**
   * Downloads a model in the background (progress as events), then registers it. Cancelling keeps the
   * partial file, so downloading the same address again continues where it stopped.
   */
  async downloadModel(a: { dbFile: string; address: string; directory: string; downloadId: number }, emit: (e: unknown) => void): Promise<{ started: true }> {
    const controller = new AbortController();
    downloads.set(a.downloadId, controller);
    const state: DownloadState = { downloadId: a.downloadId, address: a.address, status: 'running', downloaded: 0, total: 0 };
    const send = () => emit({ type: 'download', download: { ...state } });
    let last = 0;
    send();
    downloadModel(a.address, {
      directory: a.directory,
      signal: controller.signal,
      timeoutMs: Number(process.env.RW_DOWNLOAD_TIMEOUT_MS ?? 30_000),
      onProgress: (p) => {
        state.downloaded = p.downloadedSize;
        state.total = p.totalSize;
        if (Date.now() - last > 250) (last = Date.now()), send();
      },
    })
      .then(async (path) => {
        const store = openStore(a.dbFile);
        try {
          state.modelId = (await registerModel(store, path)).id;
          state.status = 'done';
        } finally {
          store.close();
        }
      })
      .catch((e: Error) => {
        state.status = controller.signal.aborted ? 'cancelled' : 'failed';
        state.message = e.message;
      })
      .finally(() => {
        downloads.delete(a.downloadId);
        send();
        if (state.status === 'done') emit({ type: 'models-changed' });
      });
    return { started: true };
  },

  // ---- model catalogue downloads (verified, resumable; registry-download.ts downloadVerified) ----

  /**
   * Downloads a catalogue entry in the background: progress (bytes, rate, ETA) as events; the part file is kept
   * when it stops with good bytes (paused, connection lost), deleted on cancel or a hash mismatch; only a
   * complete file whose SHA-256 matches the published one (or, with no published hash, one the user accepted
   * unverified) is registered.
   */
  async downloadEntry(
    a: { dbFile: string; directory: string; downloadId: number; entry: string; title: string; url: string; file: string; sha256: string | null; expectedBytes: number | null },
    emit: (e: unknown) => void,
  ): Promise<{ started: true }> {
    // one writer per part file
    const key = join(a.directory, a.file);
    if (downloadingFiles.has(key)) throw Object.assign(new Error(`${a.title} is already downloading`), { code: 'conflict' });
    downloadingFiles.add(key);
    const controller = new AbortController();
    downloads.set(a.downloadId, controller);
    const state: DownloadState = { downloadId: a.downloadId, address: a.url, entry: a.entry, status: 'running', downloaded: 0, total: a.expectedBytes ?? 0 };
    const send = () => emit({ type: 'download', download: { ...state } });
    send();
    downloadVerified({
      url: a.url,
      directory: a.directory,
      file: a.file,
      sha256: a.sha256,
      expectedBytes: a.expectedBytes,
      signal: controller.signal,
      idleTimeoutMs: Number(process.env.RW_DOWNLOAD_TIMEOUT_MS ?? 30_000),
      onProgress: (p) => {
        state.status = p.phase === 'verifying' ? 'verifying' : 'running';
        state.phase = p.phase;
        state.downloaded = p.downloaded;
        state.total = p.total ?? 0;
        state.rate = p.rate;
        state.etaSeconds = p.etaSeconds;
        state.resumedFrom = p.resumedFrom;
        send();
      },
    })
      .then(async (r) => {
        state.downloaded = state.total = r.bytes;
        state.sha256 = r.sha256;
        state.verification = r.verified ? 'verified' : 'unverified';
        state.resumedFrom = r.resumedFrom;
        if (r.restartedFromZero) state.note = 'the server ignored the resume request (no Range support): downloaded again from the start';
        const store = openStore(a.dbFile);
        try {
          const { id } = await registerModel(store, r.path);
          const rec = store.models.get(id)!;
          store.models.register({ ...rec, metadata: { ...rec.metadata, displayName: a.title, catalogueEntry: a.entry } });
          state.modelId = id;
          state.status = 'done';
        } catch (e) {
          state.status = 'failed';
          state.message = `downloaded${r.verified ? ' and verified' : ''}, but not registered: ${e instanceof Error ? e.message : String(e)}`;
        } finally {
          store.close();
        }
      })
      .catch((e: Error) => {
        // the entry names the address already: the reason alone
        state.message = e instanceof DownloadError ? e.reason : e.message;
        state.partBytes = e instanceof DownloadInterrupted ? e.partBytes : 0;
        if (e instanceof HashMismatchError) {
          state.verification = 'mismatch';
          state.sha256 = e.actual;
        }
        state.status = controller.signal.aborted ? (controller.signal.reason === 'cancel' ? 'cancelled' : 'paused') : 'failed';
      })
      .finally(() => {
        downloads.delete(a.downloadId);
        downloadingFiles.delete(key);
        send();
        if (state.status === 'done') emit({ type: 'models-changed' });
      });
    return { started: true };
  },

  /** Pauses a download: the part file stays for a later resume (also after a restart). */
  async pauseDownload(a: { downloadId: number }): Promise<{ pausing: boolean }> {
    const c = downloads.get(a.downloadId);
    c?.abort('pause');
    return { pausing: !!c };
  },

  /** Cancels a download; a catalogue download's part file is deleted. */
  async cancelDownload(a: { downloadId: number }): Promise<{ cancelling: boolean }> {
    const c = downloads.get(a.downloadId);
    c?.abort('cancel');
    return { cancelling: !!c };
  },

  /** The test chat rendered with a chosen template by the model's vocabulary (model-template.ts). */
  renderTemplateChat,

  /** This machine's GPU, RAM and cores (models/hardware.ts) and how each registered model fits them. */
  async hardwareInfo(a: { dbFile: string }): Promise<HardwareReport> {
    const hardware = await detectHardware();
    const store = openStore(a.dbFile);
    try {
      const models: ModelHardwareFit[] = [];
      for (const m of store.models.list()) {
        try {
          // the header only (no hash): a fit estimate must not read a multi-GB file
          const info = { ...inspectHeader(m.path), sha256: m.sha256 };
          models.push({ modelId: m.id, ram: ramFit(await estimateFit(info)), vram: await vramFit(info, hardware.gpu) });
        } catch (e) {
          models.push({ modelId: m.id, ram: null, vram: null, note: `cannot read ${m.path}: ${(e as Error).message}` });
        }
      }
      return { hardware, models };
    } finally {
      store.close();
    }
  },

  /** Test helper: proves a job ran in another process. */
  async ping(): Promise<{ pid: number }> {
    return { pid: process.pid };
  },
};

export type JobName = keyof typeof jobs;
export type JobArgs<J extends JobName> = Parameters<(typeof jobs)[J]>[0];
export type JobResult<J extends JobName> = Awaited<ReturnType<(typeof jobs)[J]>>;
