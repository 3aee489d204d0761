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

// ---- compact view: number format, plots (issue 12 item 8) ----

/**
 * A figure as the screen shows it: three decimals, and for small non-zero values two significant digits
 * (answer probabilities of a few thousandths were all shown as "0.001"); large counts without decimals.
 */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a === 0 || a >= 0.01) return v.toFixed(3);
  return Number(v.toPrecision(2)).toString();
}

/** "0.12 – 0.34" or '' when there is no interval. */
export function formatInterval(lo: number | null | undefined, hi: number | null | undefined): string {
  return lo === null || lo === undefined || hi === null || hi === undefined ? '' : `${formatValue(lo)} – ${formatValue(hi)}`;
}

/** One point of a dot plot: a column's figure for one row (method), with its interval. */
export interface PlotPoint {
  column: Column;
  value: number;
  lo: number | null;
  hi: number | null;
  n: number | null;
}

export interface PlotRow {
  /** Stored key of the row (a method or mask source). */
  key: string;
  label: string;
  points: PlotPoint[];
}

/** The explanation methods in the order the plots list them (the paper's order, then the baselines). */
export const PLOT_METHODS = ['self', 'lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random', 'human'] as const;

const ofScope = (f: Figure, name: string, scope: Record<string, unknown>) =>
  f.name === name && Object.entries(scope).every(([k, v]) => f.scope[k] === v);

/** The first figure of a column with this name and scope: the whole-run figure (language-scoped rows come after it). */
export function figureOf(c: Column, name: string, scope: Record<string, unknown>): Figure | undefined {
  return c.figures.find((f) => ofScope(f, name, scope) && f.scope.language === undefined) ?? c.figures.find((f) => ofScope(f, name, scope));
}

/**
 * Rows of a dot plot: for each method (PLOT_METHODS order, then any other), each column's figure `name` with
 * the scope `scopeOf(method)`; methods without any figure are left out, and so are empty values.
 */
export function plotRows(cols: readonly Column[], name: string, scopeOf: (method: string) => Record<string, unknown>, methods: readonly string[]): PlotRow[] {
  const rows: PlotRow[] = [];
  for (const m of methods) {
    const points: PlotPoint[] = [];
    for (const c of cols) {
      const f = figureOf(c, name, scopeOf(m));
      if (f && f.value !== null && Number.isFinite(f.value)) points.push({ column: c, value: f.value, lo: f.ciLow, hi: f.ciHigh, n: f.n });
    }
    if (points.length) rows.push({ key: m, label: methodLabel(m), points });
  }
  return rows;
}

/** κ of the human rationale against each method (word level), per column: the plausibility plot. */
export function kappaRows(cols: readonly Column[]): PlotRow[] {
  return plotRows(cols, 'kappa', (m) => ({ level: 'word', pair: `human×${m}` }), PLOT_METHODS.filter((m) => m !== 'human'));
}

/** Methods with a figure `name` under scope.set (comprehensiveness, sufficiency, AOPC), in plot order. */
function setMethods(cols: readonly Column[], name: string): string[] {
  const found = new Set(cols.flatMap((c) => c.figures.filter((f) => f.name === name && typeof f.scope.set === 'string').map((f) => String(f.scope.set))));
  return [...PLOT_METHODS.filter((m) => found.has(m)), ...[...found].filter((m) => !(PLOT_METHODS as readonly string[]).includes(m)).sort()];
}

/** ERASER's faithfulness figures per method and column (those stored): comprehensiveness, sufficiency and their AOPC. */
export function faithfulnessRows(cols: readonly Column[]): { name: string; rows: PlotRow[] }[] {
  return ['comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency']
    .map((name) => ({ name, rows: plotRows(cols, name, (m) => ({ set: m }), setMethods(cols, name)) }))
    .filter((g) => g.rows.length);
}

/** The domain of a plot: its values and intervals, always including 0 (the chance / no-effect line). */
export function plotDomain(rows: readonly PlotRow[], clamp?: [number, number]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const r of rows) for (const p of r.points) {
    lo = Math.min(lo, p.lo ?? p.value, p.value);
    hi = Math.max(hi, p.hi ?? p.value, p.value);
  }
  if (clamp) {
    lo = Math.max(lo, clamp[0]);
    hi = Math.min(hi, clamp[1]);
  }
  if (hi - lo < 1e-9) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  return [lo < 0 ? lo - pad : lo, hi + pad];
}

/** The compact comparison: a few figures a reader looks at first, one row each, every column side by side. */
export interface KeyFigure {
  name: string;
  scope: Record<string, unknown>;
}

export function keyFigures(cols: readonly Column[]): KeyFigure[] {
  const wanted: KeyFigure[] = [
    { name: 'accuracy', scope: {} },
    { name: 'invalid-rate', scope: {} },
    ...PLOT_METHODS.filter((m) => m !== 'human').map((m) => ({ name: 'kappa', scope: { level: 'word', pair: `human×${m}` } })),
    ...(['self', 'lrp-cp'] as const).flatMap((m) => [
      { name: 'comprehensiveness', scope: { set: m } },
      { name: 'sufficiency', scope: { set: m } },
    ]),
  ];
  return wanted.filter((k) => cols.some((c) => figureOf(c, k.name, k.scope)?.value != null));
}
