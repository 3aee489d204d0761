import { datasetsRepo, type DatasetsRepo } from './datasets-repo';
import { deletionsRepo, type DeletionsRepo } from './deletions-repo';
import { leasesRepo, type LeasesRepo } from './leases';
import { enableWal, integrityCheck, openDatabase, type Db } from './db';
import { metricsRepo, type MetricsRepo } from './metrics-repo';
import { assertSupported, migrate } from './migrations';
import { modelsRepo, type ModelsRepo } from './models-repo';
import { resultsRepo, type ResultsRepo } from './results-repo';
import { runsRepo, type RunsRepo } from './runs-repo';
import { studiesRepo, type StudiesRepo } from './studies-repo';
import { setWriteRetry, type WriteRetryPolicy } from './write';

export interface Store {
  readonly file: string;
  /** Schema version before and after opening (migrations applied on open). */
  readonly migrated: { from: number; to: number };
  readonly datasets: DatasetsRepo;
  readonly models: ModelsRepo;
  readonly studies: StudiesRepo;
  readonly runs: RunsRepo;
  readonly results: ResultsRepo;
  readonly metrics: MetricsRepo;
  /** Deleting a dataset, model, study or run with what goes with it (deletions-repo.ts). */
  readonly deletions: DeletionsRepo;
  /** Which process holds a run or a pending import (see leases.ts). */
  readonly leases: LeasesRepo;
  /** The raw connection, for diagnostics and tests; prefer the repositories. */
  readonly db: Db;
  /** `PRAGMA integrity_check`: 'ok' or the problems found. */
  integrityCheck(): string;
  close(): void;
}

export interface StoreOptions {
  /** How long one try of a write waits for another connection's lock (default 5 s). */
  busyTimeoutMs?: number;
  /** How writes are retried after that (default: up to 2 minutes, backing off). */
  writeRetry?: Partial<WriteRetryPolicy>;
}

/**
 * Opens the workbench database (creating the file if needed) and migrates it to the latest schema, then
 * deletes what imports killed half-way left behind (pending datasets whose import lease is over).
 * Throws SchemaVersionError, without touching the file, if it was written by a newer app.
 */
export function openStore(file: string, options: StoreOptions = {}): Store {
  const db = openDatabase(file, { busyTimeoutMs: options.busyTimeoutMs });
  setWriteRetry(db, options.writeRetry ?? {});
  let migrated: { from: number; to: number };
  let leases: LeasesRepo;
  let datasets: DatasetsRepo;
  try {
    assertSupported(db, file);
    enableWal(db);
    migrated = migrate(db, file);
    leases = leasesRepo(db);
    datasets = datasetsRepo(db, leases);
  } catch (e) {
    db.close();
    throw e;
  }
  try {
    datasets.purgeStaleImports();
  } catch {
    // Leftovers of a killed import are invisible; failing to delete them now (a write refused past the retry
    // deadline) must not stop the store from opening. The next open tries again.
  }
  const runs = runsRepo(db, leases);
  return {
    file,
    migrated,
    datasets,
    models: modelsRepo(db),
    studies: studiesRepo(db),
    runs,
    deletions: deletionsRepo(db, { datasets, runs }),
    results: resultsRepo(db),
    metrics: metricsRepo(db),
    leases,
    db,
    integrityCheck: () => integrityCheck(db),
    close: () => db.close(),
  };
}

export { decodeFloat32, encodeFloat32 } from './blob';
export { LATEST_VERSION, MIGRATIONS, SchemaVersionError, assertSupported, migrate, schemaVersion, type Migration } from './migrations';
export type { DatasetsRepo, DatasetImport, DatasetMeta } from './datasets-repo';
export { IMPORT_CHUNK_ROWS } from './datasets-repo';
export { LeaseHeldError, describeHolder, isLive, leaseTtlMs, type Lease, type LeaseKind, type LeaseRecord, type LeasesRepo } from './leases';
export { isBusy, retryBusy, writeTransaction, type WriteRetryPolicy } from './write';
export type { ModelsRepo } from './models-repo';
export type { StudiesRepo } from './studies-repo';
export type { RunsRepo } from './runs-repo';
export { DELETION_KINDS, type AffectedStudy, type DeletedRun, type DeletionImpact, type DeletionKind, type DeletionsRepo } from './deletions-repo';
export { NAME_MAX, nameProblem } from './names';
export type { ResultsRepo } from './results-repo';
export type { MetricsRepo } from './metrics-repo';
export * from './types';
