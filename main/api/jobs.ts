/**
 * The engine's jobs, run inside the engine child process (engine-host.ts). Each job opens its own
 * connection to the database file (WAL lets the main process keep reading meanwhile).
 */
import { importFile } from '../datasets';
import { openStore } from '../store';
import { ApiError } from './errors';
import type { ModelInspectionData } from './model-info';

export interface ImportJobArgs {
  dbFile: string;
  path: string;
  /** The name the user saw, used as the default dataset name (uploads are stored under our own name). */
  displayName: string;
  format: 'msst' | 'rafola' | 'climate-fever' | 'csv' | 'jsonl';
  language?: string;
  name?: string;
  labelsPath?: string;
}

export const jobs = {
  async importDataset(a: ImportJobArgs): Promise<{ datasetId: number }> {
    const parsed = importFile(a.path, {
      format: a.format,
      ...(a.language ? { language: a.language } : {}),
      name: a.name ?? a.displayName.replace(/\.[^.]+$/, ''),
      ...(a.labelsPath ? { labelsFile: a.labelsPath } : {}),
    });
    const store = openStore(a.dbFile);
    try {
      // One transaction inside insert: a failed import leaves the database as it was.
      return { datasetId: store.datasets.insert(parsed) };
    } finally {
      store.close();
    }
  },

  async inspectModel(a: { path: string }): Promise<ModelInspectionData> {
    // Replaced by main/models/registry's inspectModel as soon as it lands.
    throw new ApiError('unavailable', `reading GGUF metadata is not available yet (${a.path.split(/[\\/]/).pop()})`);
  },

  /** Test helper: proves a job ran in another process. */
  async ping(): Promise<{ pid: number }> {
    return { pid: process.pid };
  },
};

export type JobName = keyof typeof jobs;
export type JobArgs<J extends JobName> = Parameters<(typeof jobs)[J]>[0];
export type JobResult<J extends JobName> = Awaited<ReturnType<(typeof jobs)[J]>>;
