import type { FilteredMetric, MetricsQueryResult, PooledModelMetrics, RunFacet } from '../../../main/api/catalogue';
import { METRIC_LABEL, methodLabel, pairLabel, pooledLabel } from '../../../main/api/vocabulary';

/**
 * How the Results screen lays out what queryMetrics answers: each run's (seed's) figures, and next to a
 * model's seeds its figures pooled over them. Only layout: every value comes from the engine
 * (main/api/metrics-query.ts), labels from the shared table (main/metrics/names.ts).
 */

export type Figure = Omit<FilteredMetric, 'id' | 'runId'>;

/** A column of the figures: one run (one seed), or one model pooled over its seeds. */
export interface Column {
  /** "run:<id>" or "pooled:<index in data.pooled>". */
  key: string;
  runId: number | null;
  pooled: PooledModelMetrics | null;
  label: string;
  figures: Figure[];
}

/** A row of the metrics table: one figure of one column. */
export interface TableRow {
  key: string;
  column: Column;
  figure: Figure;
}

/** Scope keys that say whose figure it is (the run column names them), not what it measures. */
const WHO_KEYS = new Set(['model', 'seed', 'seeds', 'indicator']);

/** What a figure measures: its name and scope without whose it is (and without the language, which a filter fixes). */
export function measureKey(f: Pick<Figure, 'name' | 'scope'>): string {
  const scope = Object.entries(f.scope)
    .filter(([k]) => !WHO_KEYS.has(k) && k !== 'language')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([f.name, scope]);
}

/** The scope as the table shows it: what is measured, with method and pair names from the shared table. */
export function scopeText(scope: Record<string, unknown>): string {
  return Object.entries(scope)
    .filter(([k]) => !WHO_KEYS.has(k))
    .map(([k, v]) => {
      if (k === 'pair') return pairLabel(String(v));
      if (k === 'method' || k === 'set') return `${k} ${methodLabel(String(v))}`;
      if (k === 'level') return `${v} level`;
      return `${k} ${v}`;
    })
    .join(' · ');
}

/** The scope as data attributes carry it (stable for tests and tools): "k=v, ..." without whose it is. */
export function scopeAttr(scope: Record<string, unknown>): string {
  return Object.entries(scope)
    .filter(([k]) => !WHO_KEYS.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function runLabel(r: RunFacet | undefined, id: number): string {
  return r ? `run ${id} · ${r.model} · seed ${r.seed}${r.indicator !== null ? ` · ${r.indicator}` : ''}` : `run ${id}`;
}

/** "alpha · pooled over seeds 28, 79" (the model named only when the figures show more than one model or indicator). */
export function pooledColumnLabel(p: PooledModelMetrics, data: MetricsQueryResult): string {
  const whos = new Set(data.runs.map((r) => `${r.model}\u0000${r.indicator ?? ''}`));
  const who = whos.size > 1 || data.pooled.length > 1 ? `${p.model}${p.indicator !== null ? ` · ${p.indicator}` : ''} · ` : '';
  return `${who}${pooledLabel(p.seeds)}`;
}

/**
 * The columns in the order shown: the runs in the engine's order, each model's pooled column right after
 * the last of its runs. A run's figures are its rows of `data.metrics`.
 */
export function columns(data: MetricsQueryResult): Column[] {
  const facet = new Map(data.runs.map((r) => [r.runId, r]));
  const byRun = new Map<number, Figure[]>();
  for (const m of data.metrics) {
    const list = byRun.get(m.runId) ?? [];
    list.push(m);
    byRun.set(m.runId, list);
  }
  const runOrder = [...new Set([...data.runs.map((r) => r.runId), ...byRun.keys()])].filter((id) => byRun.has(id));
  const out: Column[] = [];
  const placed = new Set<number>();
  runOrder.forEach((runId, i) => {
    out.push({ key: `run:${runId}`, runId, pooled: null, label: runLabel(facet.get(runId), runId), figures: byRun.get(runId)! });
    data.pooled.forEach((p, pi) => {
      if (placed.has(pi)) return;
      const last = Math.max(...p.runIds.map((id) => runOrder.indexOf(id)));
      if (last !== i) return;
      placed.add(pi);
      out.push({ key: `pooled:${pi}`, runId: null, pooled: p, label: pooledColumnLabel(p, data), figures: p.metrics });
    });
  });
  // a pooled group none of whose runs has rows here (not expected): still shown, last
  data.pooled.forEach((p, pi) => {
    if (!placed.has(pi)) out.push({ key: `pooled:${pi}`, runId: null, pooled: p, label: pooledColumnLabel(p, data), figures: p.metrics });
  });
  return out;
}

const LEVEL_RANK: Record<string, number> = { word: 1, token: 2 };
const NAME_RANK = new Map(Object.keys(METRIC_LABEL).map((n, i) => [n, i]));

/**
 * Rows in reading order, as the report orders its tables: run-wide figures first, then word level, then
 * token level; within a scope (pair, method, ...) in the order the engine gave, the figures in the label
 * table's order (kappa, F1, precision, recall, IOU F1 (ERASER), IOU F1 mean per example, ...), so ERASER's
 * figure stands next to the one that is not. Stable: equal keys keep the engine's order.
 */
function readingOrder(rows: TableRow[]): TableRow[] {
  const scopeKey = (r: TableRow) => measureKey({ name: '', scope: r.figure.scope });
  const firstScope = new Map<string, number>();
  rows.forEach((r, i) => firstScope.has(scopeKey(r)) || firstScope.set(scopeKey(r), i));
  const level = (r: TableRow) => LEVEL_RANK[String(r.figure.scope.level)] ?? 0;
  const name = (r: TableRow) => NAME_RANK.get(r.figure.name) ?? NAME_RANK.size;
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => level(a.r) - level(b.r) || firstScope.get(scopeKey(a.r))! - firstScope.get(scopeKey(b.r))! || name(a.r) - name(b.r) || a.i - b.i)
    .map((x) => x.r);
}

/**
 * The metrics table's rows. A run outside any pooled group: its rows in reading order. A model pooled
 * over seeds: figure by figure, each seed's row and then the pooled row, so the pooled figure stands
 * next to the per-seed ones it pools.
 */
export function tableRows(cols: readonly Column[]): TableRow[] {
  const out: TableRow[] = [];
  const rowsOf = (c: Column) => readingOrder(c.figures.map((figure, i) => ({ key: `${c.key}:${i}`, column: c, figure })));
  const groupOf = (c: Column) => c.pooled ?? cols.find((p) => p.pooled?.runIds.includes(c.runId!))?.pooled ?? null;
  const done = new Set<PooledModelMetrics>();
  for (const c of cols) {
    const group = groupOf(c);
    if (!group) {
      out.push(...rowsOf(c));
      continue;
    }
    if (done.has(group)) continue;
    done.add(group);
    const members = cols.filter((x) => groupOf(x) === group);
    const rows = members.flatMap(rowsOf);
    const order = [...new Set(rows.map((r) => measureKey(r.figure)))];
    for (const k of order) out.push(...rows.filter((r) => measureKey(r.figure) === k));
  }
  return out;
}
