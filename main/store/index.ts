import { datasetsRepo, type DatasetsRepo } from './datasets-repo';
import { enableWal, integrityCheck, openDatabase, type Db } from './db';
import { metricsRepo, type MetricsRepo } from './metrics-repo';
import { assertSupported, migrate } from './migrations';
import { modelsRepo, type ModelsRepo } from './models-repo';
import { resultsRepo, type ResultsRepo } from './results-repo';
import { runsRepo, type RunsRepo } from './runs-repo';
import { studiesRepo, type StudiesRepo } from './studies-repo';

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
  /** The raw connection, for diagnostics and tests; prefer the repositories. */
  readonly db: Db;
  /** `PRAGMA integrity_check`: 'ok' or the problems found. */
  integrityCheck(): string;
  close(): void;
}

/**
 * Opens the workbench database (creating the file if needed) and migrates it to the latest schema.
 * Throws SchemaVersionError, without touching the file, if it was written by a newer app.
 */
export function openStore(file: string): Store {
  const db = openDatabase(file);
  let migrated: { from: number; to: number };
  try {
    assertSupported(db, file);
    enableWal(db);
    migrated = migrate(db, file);
  } catch (e) {
    db.close();
    throw e;
  }
  return {
    file,
    migrated,
    datasets: datasetsRepo(db),
    models: modelsRepo(db),
    studies: studiesRepo(db),
    runs: runsRepo(db),
    results: resultsRepo(db),
    metrics: metricsRepo(db),
    db,
    integrityCheck: () => integrityCheck(db),
    close: () => db.close(),
  };
}

export { decodeFloat32, encodeFloat32 } from './blob';
export { LATEST_VERSION, MIGRATIONS, SchemaVersionError, assertSupported, migrate, schemaVersion, type Migration } from './migrations';
export type { DatasetsRepo } from './datasets-repo';
export type { ModelsRepo } from './models-repo';
export type { StudiesRepo } from './studies-repo';
export type { RunsRepo } from './runs-repo';
export type { ResultsRepo } from './results-repo';
export type { MetricsRepo } from './metrics-repo';
export * from './types';
