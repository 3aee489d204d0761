/**
 * Runs studies: every model x seed x dataset, each (model, seed, dataset) one stored run. Models are
 * loaded once and their seeds run one after the other: llama.cpp and the LRP engine already use all the
 * threads given, and the machine's cores are better spent inside one evaluation than across two
 * (see bench/study.ts for the measured split).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StudyConfig } from '../config/study-schema';
import { importFile } from '../datasets/index';
import { inspectHeader, registerModel } from '../models/registry';
import { chatTemplateOf, thinkingOf, type IndicatorDefinitions } from '../protocol';
import { modelChatTemplate, templateProblem } from '../protocol/template-families';
import { GoldLabelError, studyLabelCheck } from '../protocol/gold';
import type { Store, StoredExample } from '../store';
import { expandPath, REPO_ROOT, resolveBuiltinDataset, studyConfigOf, type StudyToRun } from '../studies/builtins';
import { ensureDemoModel } from './demo-model';
import { openModelSession, processorFor, type ModelEntry, type ModelSession } from './model-session';
import { modelName } from '../metrics/run-metrics';
import { finalizeRun } from './finalize';
import { runExamples, type LoopOutcome, type PhaseTimings } from './loop';
import { runContextSize, studyContextSize, trainContextOf, tooLongExamples, TooLongError, type TooLong } from './fit';
import { loadVocabOnly } from '../models/session';

export interface StudyRunOptions {
  resume?: boolean;
  threads?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  appVersion?: string;
  /**
   * Indicator definitions for forced-labour prompts in place of the studies' own (CLI `--definitions`,
   * read there by protocol/indicator-definitions.ts); recorded in the stored study like its own.
   */
  definitions?: IndicatorDefinitions;
  /** Called after each stored example (tests). */
  afterStore?: (exampleId: number, done: number) => void;
  /**
   * With `resume`: the runs to continue (the GUI's Resume: the run clicked and its study's paused runs). A
   * study's other unfinished runs are left as they are. Default: every unfinished run of the study.
   */
  resumeOnly?: readonly number[];
  /**
   * Called once per study as soon as its runs exist (made or taken up again), before any model loads: the
   * engine job answers "started" with these ids (api/jobs.ts) instead of polling the store for them.
   */
  onRuns?: (studyId: number, runIds: number[]) => void;
  /**
   * Computes the study's model runs somewhere else than here (queue/owner.ts: on queue workers). Everything
   * before (validation, the stored study and its runs) and the runs' stored ends are the same either way.
   * Default: here, one model after the other (runModel).
   */
  executor?: ModelRunsExecutor;
}

/** One model's runs of a study as runStudies hands them to whatever computes them. */
export interface ModelRuns {
  file: string;
  m: ModelEntry;
  seeds: { seed: number; runId: number }[];
  /** The chat template the model renders with (template-families.ts: chosen, or the GGUF's own). */
  template: string;
  config: StudyConfig;
  threads: number;
  defs: IndicatorDefinitions | undefined;
  report: StudyRunReport;
  label: string;
  /** The examples the runs go through (a local run sizes its context to the longest: runner/fit.ts studyContextSize). */
  examples: StoredExample[];
}

export type ModelRunsExecutor = (store: Store, models: ModelRuns[], opts: StudyRunOptions & { log: (line: string) => void }) => Promise<void>;

export interface StudyRunReport {
  study: string;
  studyId: number;
  runs: { runId: number; model: string; seed: number; outcome: LoopOutcome }[];
}

/** The study's dataset in the store (imported once; found again by file hash and name). */
function datasetIdFor(store: Store, config: StudyConfig): number {
  if (config.dataset.id !== undefined) {
    if (!store.datasets.get(config.dataset.id)) throw new Error(`dataset ${config.dataset.id} does not exist in ${store.file}`);
    return config.dataset.id;
  }
  return builtinDatasetId(store, config.dataset.builtin!);
}

/** A built-in dataset in the store: the stored copy of the same file (same sha256, name, format), else imported now. */
export function builtinDatasetId(store: Store, builtin: string): number {
  const d = resolveBuiltinDataset(builtin);
  const parsed = importFile(d.file, { format: d.entry.format, language: d.entry.language, name: d.name, labelsFile: d.labelsFile });
  const existing = store.datasets.list().find((x) => x.sourceSha256 === parsed.sourceSha256 && x.name === parsed.name && x.format === parsed.format);
  return existing ? existing.id : store.datasets.insert(parsed);
}

/** The stored study with this exact (validated) configuration (latest), or a new one; the store does not parse it again. */
function studyIdFor(store: Store, config: StudyConfig): number {
  const same = store.studies
    .list()
    .filter((s) => s.name === config.name && JSON.stringify(s.config) === JSON.stringify(config))
    .pop();
  return same ? same.id : store.studies.create(config.name, config);
}

/** A study model's path: $VARS expanded ($RW_DEMO_MODEL generated when unset), relative to the repository root. */
export async function modelPathFor(p: string): Promise<string> {
  const vars: Record<string, string | undefined> = {};
  if (p.includes('$RW_DEMO_MODEL') && !process.env.RW_DEMO_MODEL) vars.RW_DEMO_MODEL = await ensureDemoModel();
  const file = resolve(REPO_ROOT, expandPath(p, vars));
  if (!existsSync(file)) throw new Error(`model file ${file} does not exist`);
  return file;
}

/**
 * The indicator definitions a forced-labour study's prompts use: `override` (the run's --definitions),
 * else the study's own, task.definitions, which the configuration always records (the built-in
 * "ilo-indicators" when it names none). No file is read here: definitions files are read where the
 * user names them (study file, --definitions, or the GUI's file choice), and a stored study carries the
 * text, so a run, its re-runs and its reports all see the same words.
 */
export function indicatorDefinitionsFor(config: StudyConfig, override?: IndicatorDefinitions): IndicatorDefinitions | undefined {
  if (config.task.kind !== 'forced-labour') return undefined;
  return override ?? config.task.definitions;
}

/** The configuration with `definitions` recorded as its task's (forced-labour only; others unchanged). */
export function withDefinitions(config: StudyConfig, definitions: IndicatorDefinitions | undefined): StudyConfig {
  if (!definitions || config.task.kind !== 'forced-labour') return config;
  return { ...config, task: { ...config.task, definitions } };
}

/** The model's vocabulary, or null when its file is gone or its header is malformed (checked before llama.cpp reads it). */
export async function vocabIfReadable(file: string): Promise<Awaited<ReturnType<typeof loadVocabOnly>> | null> {
  try {
    inspectHeader(file);
    return await loadVocabOnly(file);
  } catch {
    return null;
  }
}

/** A GGUF's own chat template, null when it has none (a model given by path, not registered yet). */
function ownTemplate(model: Parameters<typeof chatTemplateOf>[0]): string | null {
  try {
    return chatTemplateOf(model);
  } catch {
    return null;
  }
}

/**
 * The examples of a study that do not fit each of its models' runs, counted with each model's own tokenizer
 * (loaded vocabulary-only) against the context the run will create. A model without a chat template is left
 * to the run, which refuses it with its own reason.
 */
export async function studyTooLong(store: Store, config: StudyConfig, datasetId: number): Promise<{ model: string; context: number; examples: TooLong[] }[]> {
  let examples = store.datasets.examples(datasetId);
  if (config.limits.maxExamples) examples = examples.slice(0, config.limits.maxExamples);
  const defs = indicatorDefinitionsFor(config);
  const out: { model: string; context: number; examples: TooLong[] }[] = [];
  for (const m of config.models) {
    const rec = m.id !== undefined ? store.models.get(m.id) : undefined;
    const file = m.path ? await modelPathFor(m.path) : rec?.path;
    if (!file) continue;
    // the name the user knows the model by (the app's uploads are stored under a name of our own)
    const name = typeof rec?.metadata.displayName === 'string' ? rec.metadata.displayName : modelName(file);
    // a file gone or broken since it was registered is left to its runs, which fail with the reason (a malformed
    // header would abort llama.cpp here, in the study's process, so it is checked first)
    const model = await vocabIfReadable(file);
    if (!model) continue;
    try {
      // the template the run will render with: a registered model's (chosen or its own; template-families.ts)
      const template = rec ? modelChatTemplate(rec) : ownTemplate(model);
      if (template === null) continue;
      const contextSize = runContextSize(trainContextOf(model), config.limits);
      const list = tooLongExamples({ model, template, contextSize }, config, examples, defs?.indicators);
      if (list.length) out.push({ model: name, context: contextSize, examples: list });
    } finally {
      await model.dispose();
    }
  }
  return out;
}

/**
 * Runs study files (NamedStudy: each parsed once, here, before anything runs) and stored studies
 * (ValidatedStudy: run from the stored configuration, not parsed again).
 */
export async function runStudies(store: Store, studies: StudyToRun[], opts: StudyRunOptions = {}): Promise<StudyRunReport[]> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const reports: StudyRunReport[] = [];
  // Every study's configuration is validated and its gold labels checked before any of them runs: a study
  // (of a group such as "demo") whose labels do not map is refused as a whole, before any run exists or
  // model loads (protocol/gold.ts).
  const prepared = studies.map((s) => ({ s, config: studyConfigOf(s), datasetId: 0 }));
  for (const p of prepared) {
    p.datasetId = datasetIdFor(store, p.config);
    const labels = studyLabelCheck(store, p.config, p.datasetId);
    if (!labels.check.ok) throw new GoldLabelError(labels.check, labels.dataset);
    // a registered model without a usable chat template is refused before any run exists (a model given by
    // path is checked when it is registered, below, still before its runs are made)
    for (const m of p.config.models) {
      const rec = m.id !== undefined ? store.models.get(m.id) : undefined;
      const problem = rec && templateProblem(rec);
      if (problem) throw new Error(problem);
    }
  }
  // Texts too long for a model's context, with no choice made: the study is refused as a whole, every such
  // text listed (runner/fit.ts), before any run exists or a model loads for inference.
  for (const p of prepared) {
    if (p.config.limits.tooLong !== undefined) continue;
    const config = withDefinitions(p.config, opts.definitions);
    const tooLong = await studyTooLong(store, config, p.datasetId);
    if (tooLong.length) throw new TooLongError(p.s.name, tooLong);
  }
  for (const { s, config: parsed, datasetId } of prepared) {
    if (opts.signal?.aborted) break;
    // --definitions replaces the study's own before the study is stored: the stored study records what ran
    const config = withDefinitions(parsed, opts.definitions);
    // --threads wins; else the study's own limit (the demo studies ask for 1: their tiny model runs
    // many one-token evaluations, where a second llama.cpp thread costs more in sync than it gains)
    const threads = Math.max(1, opts.threads ?? config.limits.threads);
    const defs = indicatorDefinitionsFor(config);
    // a stored study's runs are its own; a study file's go to the stored study with its exact configuration
    const storedId = 'validated' in s && s.studyId !== undefined && config === parsed ? s.studyId : undefined;
    const studyId = storedId ?? studyIdFor(store, config);
    const report: StudyRunReport = { study: s.name, studyId, runs: [] };
    reports.push(report);
    const examples = store.datasets.examples(datasetId);
    const total = config.limits.maxExamples ? Math.min(config.limits.maxExamples, examples.length) : examples.length;
    // Every run of the study, per (model, seed), exists before any model loads: a model that cannot be
    // loaded fails its own runs with the reason, and a study that stops early (a failure, a pause) leaves no
    // run of it without a stored state (see settleUnstarted).
    const plan: { file: string; m: StudyConfig['models'][number]; seeds: { seed: number; runId: number }[]; template: string }[] = [];
    for (const m of config.models) {
      const file = m.path ? await modelPathFor(m.path) : store.models.get(m.id!)?.path;
      if (!file) throw new Error(`model ${m.id} is not registered`);
      const modelId = m.id ?? (await registerModel(store, file)).id;
      // the template the model renders with: chosen for it (Models screen) or its GGUF's own (template-families.ts)
      const record = store.models.get(modelId)!;
      const template = modelChatTemplate(record);
      if (template === null) throw new Error(templateProblem(record)!);
      // runs of this study, model and dataset per seed: resumed when unfinished and --resume, else new
      const runFor = (seed: number): number | null => {
        const mine = store.runs.list({ studyId, modelId, datasetId }).filter((r) => r.seed === seed);
        const prev = (opts.resumeOnly && mine.find((r) => opts.resumeOnly!.includes(r.id))) || mine.pop();
        if (prev && opts.resume) {
          if (prev.status !== 'done') {
            if (opts.resumeOnly && !opts.resumeOnly.includes(prev.id)) return null;
            // waiting its turn behind the study's other runs: queued, not still "paused" in the monitor
            if (prev.status === 'paused' || prev.status === 'stopped' || prev.status === 'failed') store.runs.setStatus(prev.id, 'queued');
            return prev.id;
          }
          // already finished: nothing to run, but it belongs to the study's results (summary, --report)
          const n = prev.progress.done;
          report.runs.push({ runId: prev.id, model: modelName(file), seed, outcome: { status: 'done', processed: 0, resumed: n, total: prev.progress.total, timings: {}, wallMs: 0 } });
          return null;
        }
        return store.runs.create({ studyId, modelId, datasetId, seed, appVersion: opts.appVersion ?? '0.1.0', total });
      };
      const seeds = config.seeds.map((seed) => ({ seed, runId: runFor(seed) })).filter((x) => x.runId !== null) as { seed: number; runId: number }[];
      if (!seeds.length) log(`${s.name}: ${modelName(file)}: ${opts.resumeOnly ? 'no run to continue' : 'all runs already done'}`);
      plan.push({ file, m, seeds, template });
    }
    const planned = plan.flatMap((p) => p.seeds.map((x) => x.runId));
    opts.onRuns?.(studyId, planned);
    try {
      const models: ModelRuns[] = plan.filter((p) => p.seeds.length).map((p) => ({ ...p, config, threads, defs, report, label: s.name, examples: examples.slice(0, total) }));
      if (opts.executor) await opts.executor(store, models, { ...opts, log });
      else {
        for (const mr of models) {
          if (opts.signal?.aborted) break;
          await runModel(store, { ...mr, opts, log });
        }
      }
    } catch (e) {
      settleUnstarted(store, planned, { status: 'failed', error: `not run: the study stopped before this run: ${e instanceof Error ? e.message : String(e)}` });
      throw e;
    }
    // stopped (Ctrl-C, Pause) before their turn: stopped, like the run in flight, and resumable
    if (opts.signal?.aborted) settleUnstarted(store, planned, { status: 'stopped' });
  }
  return reports;
}

/** Runs still queued (never taken up) when their study stopped get a stored end: failed with the reason, or stopped. */
function settleUnstarted(store: Store, runIds: number[], end: { status: 'failed' | 'stopped'; error?: string }): void {
  for (const id of runIds) if (store.runs.get(id)?.status === 'queued') store.runs.finish(id, end);
}

/** One model's runs (its seeds, one after the other) with the model loaded once. */
async function runModel(
  store: Store,
  a: ModelRuns & { opts: StudyRunOptions; log: (line: string) => void },
): Promise<void> {
  const { file, m, seeds, template, config, threads, defs, report, opts, log } = a;
  let session: ModelSession;
  try {
    // the context sized to the study's longest example (runner/fit.ts studyContextSize), not the model's whole window
    session = await openModelSession(file, m, config, threads, template, {
      contextSize: (model) => studyContextSize(model.trainContextSize, { model, template }, config, a.examples, defs?.indicators),
    });
  } catch (e) {
    // the runs exist: they carry the reason instead of staying queued
    // named as the user knows it (an uploaded model's file is the app's own copy, under a name of ours)
    const rec = m.id !== undefined ? store.models.get(m.id) : store.models.list().find((r) => r.path === file);
    const name = typeof rec?.metadata.displayName === 'string' ? rec.metadata.displayName : modelName(file);
    const why = (e instanceof Error ? e.message : String(e)).split(file).join(name);
    const msg = `model "${name}" could not be loaded: ${why}`;
    for (const { runId } of seeds) store.runs.finish(runId, { status: 'failed', error: msg });
    throw new Error(msg);
  }
  try {
    for (const { seed, runId } of seeds) {
      if (opts.signal?.aborted) break;
      const processor = processorFor(session, config, m, seed, defs?.indicators);
      const outcome = await runExamples(store, runId, processor, {
        signal: opts.signal,
        log,
        label: `${a.label} · ${modelName(file)} · seed ${seed}`,
        maxExamples: config.limits.maxExamples,
        afterStore: opts.afterStore,
      });
      if (outcome.status === 'done') finalizeRun(store, runId, runTimings(outcome, threads, template, defs));
      report.runs.push({ runId, model: modelName(file), seed, outcome });
      if (outcome.status === 'failed') throw new Error(`run ${runId} failed: ${outcome.error}`);
    }
  } finally {
    await session.dispose();
  }
}

/** The timings a finished run stores (phase times, wall time, threads, the template's thinking, definitions used). */
export function runTimings(outcome: LoopOutcome, threads: number, template: string, defs: IndicatorDefinitions | undefined): Record<string, unknown> {
  return { ...outcome.timings, wallMs: outcome.wallMs, threads, thinking: thinkingOf(template), ...(defs ? { indicatorDefinitions: { source: defs.source, name: defs.name, sha256: defs.sha256 } } : {}) };
}

export type { PhaseTimings };
