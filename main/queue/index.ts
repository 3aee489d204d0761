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
