/**
 * The resumable loop over one run's examples: each finished example is stored at once (one transaction,
 * UNIQUE(run, example)), so a killed process loses at most the example in flight, and a resumed run
 * skips exactly the examples already stored.
 *
 * The run is leased to this process for as long as the loop works on it (store.runs.claim): a second
 * process resuming the same run is refused (LeaseHeldError, naming this process and since when) before it
 * computes anything, and a run whose process dies shows as 'interrupted' once its lease is over.
 */
import type { ResultInput, RunRecord, Store, StoredExample } from '../store';
import { ProgressReporter } from './progress';

/** Milliseconds spent per phase, summed over the examples processed in this process. */
export type PhaseTimings = Record<string, number>;

export interface ExampleContext {
  run: RunRecord;
  signal: AbortSignal;
  /** The processor adds its phase times here (prediction, self-explanation, lrp, faithfulness, ...). */
  timings: PhaseTimings;
}

export type ProcessExample = (ex: StoredExample, ctx: ExampleContext) => Promise<ResultInput>;

export interface LoopOptions {
  /** Aborting stops after the example in flight is stored (Ctrl-C). */
  signal?: AbortSignal;
  /** Progress lines (with ETA) go here; default: stderr. */
  log?: (line: string) => void;
  label?: string;
  /** Only the first N examples of the dataset (study limits.maxExamples). */
  maxExamples?: number;
  /** Called after each stored example (tests use it to kill the process at a known point). */
  afterStore?: (exampleId: number, doneCount: number) => void;
}

export interface LoopOutcome {
  status: 'done' | 'stopped' | 'failed';
  /** Examples processed (and stored) by this call. */
  processed: number;
  /** Examples found already stored (resume). */
  resumed: number;
  total: number;
  timings: PhaseTimings;
  wallMs: number;
  error?: string;
}

/** This process lost the run's lease while working on it; nothing more is written for the run. */
export class RunLeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLeaseLostError';
  }
}

export function runExamples(store: Store, runId: number, process: ProcessExample, opts: LoopOptions = {}): Promise<LoopOutcome> {
  return loop(store, runId, process, opts);
}

async function loop(store: Store, runId: number, processEx: ProcessExample, opts: LoopOptions): Promise<LoopOutcome> {
  const run = store.runs.get(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  // refused here, before anything is read or computed, while another process runs it
  const lease = store.runs.claim(runId);
  // the lease is lost only if this process stalled past its expiry and another took the run over: stop at once
  const lost = new AbortController();
  const heartbeat = lease.startHeartbeat(() => lost.abort());
  let outcome: LoopOutcome | undefined;
  try {
    outcome = await work(store, runId, processEx, opts, signal, log, () => lost.signal.aborted || !lease.renew());
    return outcome;
  } finally {
    // finish() released the lease of a stopped or failed run. A 'done' run keeps it (and its heartbeat, which
    // stops by itself when the lease is gone) until finalizeRun's finish(), so no other process takes the run
    // while its metrics are computed. Leaving any other way (an exception) ends the lease now: the run shows
    // as interrupted, resumable.
    if (outcome?.status !== 'done') heartbeat.stop();
    if (!outcome) {
      try {
        lease.abandon();
      } catch {
        // the store is unusable; the lease then ends by its expiry
      }
    }
  }
}

async function work(
  store: Store,
  runId: number,
  processEx: ProcessExample,
  opts: LoopOptions,
  signal: AbortSignal,
  log: (line: string) => void,
  leaseLost: () => boolean,
): Promise<LoopOutcome> {
  const run = store.runs.get(runId)!;
  let examples = store.datasets.examples(run.datasetId);
  if (opts.maxExamples !== undefined) examples = examples.slice(0, opts.maxExamples);
  const total = examples.length;
  const done = new Set(store.results.doneExampleIds(runId));
  const todo = examples.filter((e) => !done.has(e.id));
  const resumed = total - todo.length;
  const timings: PhaseTimings = {};
  const t0 = Date.now();
  store.runs.setProgress(runId, store.results.doneExampleIds(runId).length, total);
  const reporter = new ProgressReporter(log);
  const label = opts.label ?? `run ${runId}`;
  const state = { label, done: resumed, total, doneHere: 0, startedMs: t0 };
  if (resumed) log(`${label}: resuming, ${resumed} of ${total} examples already stored`);
  reporter.update(state, true);
  let processed = 0;
  try {
    for (const ex of todo) {
      if (signal.aborted) break;
      const fresh = store.runs.get(runId)!;
      const result = await processEx(ex, { run: fresh, signal, timings });
      if (leaseLost()) {
        throw new RunLeaseLostError(`run ${runId}: this process's lease on the run ended (it stalled past the lease's expiry and another process may have taken the run over); the example in flight was not stored`);
      }
      store.results.put(runId, ex.id, result);
      processed++;
      state.done++;
      state.doneHere++;
      reporter.update(state);
      opts.afterStore?.(ex.id, state.done);
    }
  } catch (e) {
    if (e instanceof RunLeaseLostError) throw e; // the run is no longer ours to mark
    if (signal.aborted) {
      // Ctrl-C while an example was in flight: that example is dropped (nothing of it was stored)
      const wallMs = Date.now() - t0;
      store.runs.finish(runId, { status: 'stopped', timings: { ...timings, wallMs } });
      log(`${label}: stopped after ${state.done}/${total} (example in flight dropped); continue with --resume`);
      return { status: 'stopped', processed, resumed, total, timings, wallMs };
    }
    const msg = e instanceof Error ? e.message : String(e);
    store.runs.finish(runId, { status: 'failed', error: msg, timings: { ...timings, wallMs: Date.now() - t0 } });
    log(`${label}: failed: ${msg}`);
    return { status: 'failed', processed, resumed, total, timings, wallMs: Date.now() - t0, error: msg };
  }
  reporter.update(state, true);
  const wallMs = Date.now() - t0;
  const complete = examples.every((e) => done.has(e.id)) || state.done >= total;
  if (signal.aborted && !complete) {
    store.runs.finish(runId, { status: 'stopped', timings: { ...timings, wallMs } });
    log(`${label}: stopped after ${state.done}/${total}; continue with --resume`);
    return { status: 'stopped', processed, resumed, total, timings, wallMs };
  }
  return { status: 'done', processed, resumed, total, timings, wallMs };
}
