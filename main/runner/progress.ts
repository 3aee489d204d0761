/** Progress lines with an ETA, on stderr, at most a few per second. */
export interface ProgressState {
  label: string;
  done: number;
  total: number;
  /** Examples finished in this process (ETA uses only these: resumed ones cost nothing). */
  doneHere: number;
  startedMs: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Remaining time from the mean time per example finished here; undefined before the first one. */
export function eta(p: ProgressState, nowMs: number): number | undefined {
  if (p.doneHere === 0) return undefined;
  return ((nowMs - p.startedMs) / p.doneHere) * Math.max(0, p.total - p.done);
}

export function progressLine(p: ProgressState, nowMs: number): string {
  const pct = p.total ? ((100 * p.done) / p.total).toFixed(0) : '100';
  const e = eta(p, nowMs);
  return `${p.label} ${p.done}/${p.total} (${pct}%) ETA ${e === undefined ? '?' : formatDuration(e)}`;
}

export class ProgressReporter {
  private last = 0;
  constructor(
    private readonly write: (line: string) => void,
    private readonly minIntervalMs = 250,
  ) {}
  update(p: ProgressState, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < this.minIntervalMs && p.done < p.total) return;
    this.last = now;
    this.write(progressLine(p, now));
  }
}
