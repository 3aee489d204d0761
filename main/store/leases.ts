/**
 * Leases: which process is working on a run (or writing a pending import) right now. A lease row names its
 * owner (host, pid and a random part, so two leases of one process differ), when it was taken and when it
 * expires; the holder renews it on a heartbeat. It is taken in one IMMEDIATE transaction, so of two processes
 * exactly one gets it, and the other is told who holds it and since when.
 *
 * The one rule of liveness (isLive): a lease is live until its expiry passes, and a lease taken on this host
 * by a process that no longer exists is over at once (a crash or SIGKILL is seen without waiting for the
 * expiry; a machine restart by the expiry, since leases outlive no restart by more than their TTL).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from './db';
import { StoreError } from './types';
import { retryBusy, writeTransaction } from './write';

export type LeaseKind = 'run' | 'import';

export interface LeaseRecord {
  kind: LeaseKind;
  targetId: number;
  owner: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
  expiresAt: string;
  /** isLive() when read. */
  live: boolean;
}

export interface LeaseRow {
  kind: LeaseKind;
  target_id: number;
  owner: string;
  pid: number;
  host: string;
  acquired_ms: number;
  heartbeat_ms: number;
  expires_ms: number;
}

/** Default 60 s: long enough for a busy machine, short enough for "interrupted" after a restart. RW_LEASE_TTL_MS overrides (tests). */
export function leaseTtlMs(): number {
  const v = Number(process.env.RW_LEASE_TTL_MS);
  return Number.isFinite(v) && v >= 100 ? v : 60_000;
}

function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0 or negative) would signal a process group
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export function isLive(l: Pick<LeaseRow, 'host' | 'pid' | 'expires_ms'>, nowMs = Date.now()): boolean {
  if (l.expires_ms <= nowMs) return false;
  if (l.host === hostname() && !processExists(l.pid)) return false;
  return true;
}

/** A live lease of another process (this process's own leases, whichever part of it took them, do not count). */
export function heldByAnotherProcess(l: LeaseRecord): boolean {
  return l.live && !(l.pid === process.pid && l.host === hostname());
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toLeaseRecord(r: LeaseRow, nowMs = Date.now()): LeaseRecord {
  return {
    kind: r.kind,
    targetId: r.target_id,
    owner: r.owner,
    pid: r.pid,
    host: r.host,
    acquiredAt: iso(r.acquired_ms),
    heartbeatAt: iso(r.heartbeat_ms),
    expiresAt: iso(r.expires_ms),
    live: isLive(r, nowMs),
  };
}

/** Who holds a lease, in words: "process 123 on host h since … (last heartbeat 2 s ago)". */
export function describeHolder(l: LeaseRecord, nowMs = Date.now()): string {
  const ago = Math.max(0, Math.round((nowMs - Date.parse(l.heartbeatAt)) / 1000));
  return `process ${l.pid} on host ${l.host} since ${l.acquiredAt} (last heartbeat ${ago} s ago)`;
}

/** Refusal: another live process holds the lease. `code` makes the API answer it as a conflict (main/api/to-error.ts). */
export class LeaseHeldError extends StoreError {
  readonly code = 'conflict';
  constructor(
    readonly what: string,
    readonly holder: LeaseRecord,
  ) {
    super(
      `${what} is already ${holder.kind === 'run' ? 'being run' : 'in progress'} by ${describeHolder(holder)}; ` +
        `wait for it to finish, or stop it there (Ctrl-C, SIGTERM, or Pause in the app) and resume`,
    );
    this.name = 'LeaseHeldError';
  }
}

/** A lease this process holds. */
export interface Lease {
  readonly kind: LeaseKind;
  readonly targetId: number;
  readonly owner: string;
  /** Pushes the expiry forward; false when the lease is no longer ours (taken over after it expired, or released). */
  renew(): boolean;
  /** Renews every ttl/4 on a timer that does not keep the process alive; stops when a renewal fails or on stop(). */
  startHeartbeat(onLost?: () => void): { stop(): void };
  /** Deletes the lease (work finished or stopped cleanly). */
  release(): void;
  /** Leaves the lease row but ends it now: the work is shown as interrupted at once, and can be resumed. */
  abandon(): void;
}

export interface LeasesRepo {
  /** Takes the lease in one transaction, or throws LeaseHeldError naming the live holder. `what` names the target in messages. */
  acquire(kind: LeaseKind, targetId: number, what: string): Lease;
  get(kind: LeaseKind, targetId: number): LeaseRecord | undefined;
  list(kind?: LeaseKind): LeaseRecord[];
}

export function leasesRepo(db: Db): LeasesRepo {
  const one = db.prepare(`SELECT * FROM leases WHERE kind = ? AND target_id = ?`);
  const all = db.prepare(`SELECT * FROM leases WHERE (@kind IS NULL OR kind = @kind) ORDER BY kind, target_id`);
  const upsert = db.prepare(
    `INSERT INTO leases (kind, target_id, owner, pid, host, acquired_ms, heartbeat_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (kind, target_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
       acquired_ms = excluded.acquired_ms, heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms`,
  );
  const renew = db.prepare(`UPDATE leases SET heartbeat_ms = ?, expires_ms = ? WHERE kind = ? AND target_id = ? AND owner = ?`);
  const release = db.prepare(`DELETE FROM leases WHERE kind = ? AND target_id = ? AND owner = ?`);
  const abandon = db.prepare(`UPDATE leases SET expires_ms = ? WHERE kind = ? AND target_id = ? AND owner = ?`);

  const acquireTx = writeTransaction(db, 'lease', (kind: LeaseKind, targetId: number, what: string, owner: string, ttl: number) => {
    const now = Date.now();
    const held = one.get(kind, targetId) as LeaseRow | undefined;
    if (held && held.owner !== owner && isLive(held, now)) throw new LeaseHeldError(what, toLeaseRecord(held, now));
    upsert.run(kind, targetId, owner, process.pid, hostname(), now, now, now + ttl);
  });

  return {
    acquire(kind, targetId, what) {
      const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
      const ttl = leaseTtlMs();
      acquireTx(kind, targetId, what, owner, ttl);
      const lease: Lease = {
        kind,
        targetId,
        owner,
        renew: () => retryBusy(db, `${what}: lease heartbeat`, () => renew.run(Date.now(), Date.now() + ttl, kind, targetId, owner).changes === 1),
        startHeartbeat(onLost) {
          const timer = setInterval(() => {
            let ok = false;
            try {
              ok = db.open && lease.renew();
            } catch {
              ok = false;
            }
            if (!ok) {
              clearInterval(timer);
              onLost?.();
            }
          }, Math.max(25, Math.floor(ttl / 4)));
          timer.unref();
          return { stop: () => clearInterval(timer) };
        },
        release: () => void retryBusy(db, `${what}: lease release`, () => release.run(kind, targetId, owner)),
        abandon: () => void retryBusy(db, `${what}: lease end`, () => abandon.run(Date.now(), kind, targetId, owner)),
      };
      return lease;
    },
    get(kind, targetId) {
      const r = one.get(kind, targetId) as LeaseRow | undefined;
      return r && toLeaseRecord(r);
    },
    list: (kind) => (all.all({ kind: kind ?? null }) as LeaseRow[]).map((r) => toLeaseRecord(r)),
  };
}
