/**
 * Studies shared over machines on a job queue (BullMQ on Redis or Valkey; issue 15). What the CLI, the API
 * and the Run monitor use: the owner's executor (runStudies' `executor`), the worker, the queue URL rule, and
 * the store's per-run / per-worker records. Loaded only when a queue is asked for: bullmq and ioredis are
 * imported inside the owner and the worker, so a single-machine user never loads them.
 */
export { queueExecutor, WORKER_FAILED, type OwnerOptions } from './owner';
export { runWorker, type WorkerOptions } from './worker';
export { parseQueueUrl, displayQueueUrl, QueueUrlError, type QueueAddress } from './url';
export { parseJob, JobRefusedError, type ExampleJob } from './job';
export { queueStatus, queueRun, type QueueStatus, type QueueRunRecord, type QueueWorkerRecord } from './status-repo';
export { listWorkers, type WorkerRecord } from './registry';

import type { StudyToRun } from '../studies/builtins';
import { runStudies, type StudyRunOptions, type StudyRunReport } from '../runner';
import type { Store } from '../store';
import { queueExecutor, type OwnerOptions } from './owner';
import { parseQueueUrl } from './url';

/**
 * The API's one call for "run on workers": runStudies with the queue's executor (the study is validated and its
 * runs made exactly as for a local run; `signal` pauses). `queue` is the URL the user gave (its password is
 * never printed or stored); watch progress with store.runs and queueStatus(store, runId).
 */
export function runStudiesOnQueue(
  store: Store,
  studies: StudyToRun[],
  queue: string,
  opts: StudyRunOptions & Omit<OwnerOptions, 'address'> = {},
): Promise<StudyRunReport[]> {
  const { attempts, noWorkerTimeoutMs, pollMs, ...runOpts } = opts;
  return runStudies(store, studies, { ...runOpts, executor: queueExecutor({ address: parseQueueUrl(queue), attempts, noWorkerTimeoutMs, pollMs }) });
}
