import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Opens (or creates) the SQLite file with the settings every connection needs.
 * WAL lets a UI read while a runner writes; synchronous=NORMAL is durable across process kills
 * in WAL mode (only an OS crash/power loss can drop the last commits, never corrupt the file).
 * busy_timeout makes a second connection (CLI while the app runs) wait instead of failing at once.
 */
export const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(file: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): Db {
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  // each try of a write waits this long; main/store/write.ts retries beyond it
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? BUSY_TIMEOUT_MS))}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/** Switches to WAL. Separate from opening so a file we refuse (newer schema) is never modified. */
export function enableWal(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

/** `PRAGMA integrity_check` result: 'ok' or the list of problems joined by newlines. */
export function integrityCheck(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check).join('\n');
}
