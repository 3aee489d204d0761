/**
 * The one way the store writes: every write transaction begins IMMEDIATE (takes the write lock up front, so
 * a transaction never has to upgrade a read lock, which SQLite refuses at once with SQLITE_BUSY_SNAPSHOT
 * instead of waiting) and is retried with backoff when another connection holds the lock longer than the
 * connection's busy_timeout. A long writer elsewhere (an import, another run) then delays a write instead of
 * failing it; only a lock held past the retry deadline fails, with a message saying so.
 */
import type { Db } from './db';
import { StoreError } from './types';

export interface WriteRetryPolicy {
  /** Give up when a write has been refused for this long (each try already waits busy_timeout). */
  deadlineMs: number;
  /** First pause between tries; doubled after each refusal up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_WRITE_RETRY: WriteRetryPolicy = { deadlineMs: 120_000, firstDelayMs: 25, maxDelayMs: 1_000 };

const policies = new WeakMap<Db, WriteRetryPolicy>();

/** Sets the retry policy of one connection (openStore does; tests shorten it). */
export function setWriteRetry(db: Db, policy: Partial<WriteRetryPolicy>): void {
  policies.set(db, { ...DEFAULT_WRITE_RETRY, ...policies.get(db), ...policy });
}

/** SQLITE_BUSY and its extended codes (…_SNAPSHOT, …_RECOVERY, …_TIMEOUT): another connection has the lock. */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread (better-sqlite3 is synchronous: the caller is waiting on the database anyway). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Runs `fn` (one statement or one transaction), trying again after a pause while the database is locked by
 * another connection. Inside an outer transaction it runs once: only the outermost transaction can be retried.
 */
export function retryBusy<T>(db: Db, what: string, fn: () => T): T {
  if (db.inTransaction) return fn();
  const policy = policies.get(db) ?? DEFAULT_WRITE_RETRY;
  const t0 = Date.now();
  let delay = policy.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw e;
      const waited = Date.now() - t0;
      if (waited + delay > policy.deadlineMs) {
        throw Object.assign(
          new StoreError(`${what}: the database stayed locked by another process for ${(waited / 1000).toFixed(1)} s (${attempt} tries): ${(e as Error).message}`),
          { code: (e as { code: string }).code },
        );
      }
      // jitter, so two waiting writers do not retry in lock-step
      sleepSync(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}

/**
 * `db.transaction(fn)` for writes: BEGIN IMMEDIATE and retried as a whole on SQLITE_BUSY (see retryBusy).
 * Nested inside another transaction it becomes a savepoint, as better-sqlite3's transactions do.
 */
export function writeTransaction<A extends unknown[], R>(db: Db, what: string, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => retryBusy(db, what, () => tx.immediate(...args));
}
