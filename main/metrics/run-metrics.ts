/**
 * Metrics of a run, computed from what is stored (so `metrics <runId>` can recompute them at any time,
 * and imported runs get the same treatment as runs made here).
 *
 * The stored result layout this reads (written by the runner's example pipeline and by import-run):
 *   - masks["<source>/word"] and masks["<source>/token"]: 0/1 masks; sources are human, self, lrp-cp,
 *     lrp-attn, lrp-contrast, occlusion, random. Word masks are over the example's whitespace words;
 *     token masks are over `tokens` (the whole prompt), non-text tokens always 0.
 *   - relevance[method]: continuous scores over `tokens` (method = lrp-cp | lrp-attn | lrp-contrast |
 *     occlusion | random), for AUPRC / average precision and where relevance lands (LRP: share of |R| on
 *     each token role, scope {method, segment: role}, and of positive R, scope {method, part: role,
 *     of: 'positive'}; roles in metrics/token-roles.ts). Their masks are
 *     binarised at each level over that level's units (metrics/levels.ts).
 *   - rawOutputs.faithfulness: { p0, sets: {name: p after masking}, comprehensiveness: {name: v},
 *     sufficiency: {name: v}, aopcComprehensiveness: {name: v}, aopcSufficiency: {name: v} }.
 *   - rawOutputs.flipping: { k, curves: {method: {n, flipped, p, auc}} } (metrics/flipping.ts).
 *   - rawOutputs.selfConsistency: { redaction?, counterfactual?, biasing? } (protocol/self-consistency-run.ts);
 *     aggregated as metrics/self-consistency.ts says, rows {test} named self-consistent, edit-distance,
 *     hint-followed, hint-unfaithful, test-invalid.
 *   - skippedReason: every example not evaluated, with the reason; `label`/`correct` are kept for
 *     wrong answers so accuracy counts them.
 */
import {
  aggregate,
  aggregatePooled,
  averagePrecision,
  bootstrapMeanCI,
  clusterMeanCI,
  eraserAuprc,
  eraserF1,
  hashSeed,
  iouF1,
  iouPrecisionOf,
  iouRecallOf,
  maskAgreement,
  relevanceShare,
  tokenRoles,
  type DerivedMetric,
  type StoredFlipping,
  type ExampleMetrics,
  type MetricSummary,
} from './index';
import { selfConsistencyMetrics, type StoredSelfConsistency } from './self-consistency';
import type { MetricInput, MetricRecord, ModelRecord, ResultRecord, RunRecord, Store, StoredExample } from '../store';

export const SOURCES = ['human', 'self', 'lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random'] as const;
/** Pairs compared for plausibility: the first is the reference (gold) mask. */
export const PAIRS: [string, string][] = [
  ['human', 'self'],
  ['human', 'lrp-cp'],
  ['human', 'lrp-attn'],
  ['human', 'lrp-contrast'],
  ['human', 'occlusion'],
  ['human', 'random'],
  ['self', 'lrp-cp'],
  ['self', 'lrp-contrast'],
];
export const CONTINUOUS = ['lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random'] as const;

export const pairName = (a: string, b: string) => `${a}×${b}`;

interface FaithfulnessRecord {
  p0?: number;
  sets?: Record<string, number>;
  comprehensiveness?: Record<string, number>;
  sufficiency?: Record<string, number>;
  aopcComprehensiveness?: Record<string, number>;
  aopcSufficiency?: Record<string, number>;
}

/**
 * Per-example metric values; metric keys are "<level>:<pair>:<metric>" and "<kind>:<set>".
 * Span matching (ERASER): "iou-precision" and "iou-recall" are this example's partial-match precision and
 * recall (null when it has no predicted / no gold span, as ERASER leaves such examples out of that mean);
 * ERASER's "iou-f1" is not per example but the F1 of their means (`derivedMetrics`); the mean of per-example
 * IOU F1s is "iou-f1-per-example". "auprc" is ERASER's (trapezoid) AUPRC, "average-precision" sklearn's AP.
 */
export function exampleMetrics(r: ResultRecord, ex: StoredExample | undefined): Record<string, number | null> {
  const m: Record<string, number | null> = {};
  const masks = r.masks ?? {};
  const tokens = r.tokens ?? [];
  const textPos = tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
  for (const level of ['word', 'token'] as const) {
    const positions = level === 'token' ? textPos : undefined;
    for (const [a, b] of PAIRS) {
      const ga = masks[`${a}/${level}`];
      const pb = masks[`${b}/${level}`];
      if (!ga || !pb || ga.length !== pb.length) continue;
      if (level === 'token' && positions!.length === 0) continue;
      const agr = maskAgreement(ga, pb, positions);
      const key = `${level}:${pairName(a, b)}`;
      m[`${key}:kappa`] = agr.kappa;
      m[`${key}:f1`] = agr.f1;
      m[`${key}:precision`] = agr.precision;
      m[`${key}:recall`] = agr.recall;
      const iou = iouF1(ga, pb, positions);
      m[`${key}:iou-precision`] = iouPrecisionOf(iou);
      m[`${key}:iou-recall`] = iouRecallOf(iou);
      m[`${key}:iou-f1-per-example`] = iou.f1;
    }
  }
  const humanTok = masks['human/token'];
  const roles = tokenRoles(tokens);
  for (const rel of r.relevance) {
    const values = Array.from(rel.values);
    if (values.length !== tokens.length || values.some((v) => !Number.isFinite(v))) continue;
    if (humanTok && humanTok.length === values.length && textPos.length) {
      const auprc = eraserAuprc(humanTok, values, textPos);
      m[`token:auprc:${rel.method}`] = Number.isNaN(auprc) ? null : auprc;
      m[`token:average-precision:${rel.method}`] = averagePrecision(humanTok, values, textPos);
    }
    if ((CONTINUOUS as readonly string[]).includes(rel.method) && rel.method.startsWith('lrp')) {
      // where relevance lands, by token role (metrics/token-roles.ts): shares of |R| and of positive R
      const shares = relevanceShare(values, roles);
      for (const [role, s] of Object.entries(shares)) {
        m[`share:${rel.method}:${role}`] = Number.isFinite(s.abs) ? s.abs : null;
        m[`share+:${rel.method}:${role}`] = Number.isFinite(s.positive) ? s.positive : null;
      }
    }
  }
  const f = (r.rawOutputs?.faithfulness ?? null) as FaithfulnessRecord | null;
  if (f && typeof f.p0 === 'number') {
    m['faith:p0'] = f.p0;
    for (const [k, p] of Object.entries(f.sets ?? {})) {
      m[`faith:p:${k}`] = p;
      m[`faith:drop:${k}`] = f.p0 - p;
    }
    for (const [k, v] of Object.entries(f.comprehensiveness ?? {})) m[`comprehensiveness:${k}`] = v;
    for (const [k, v] of Object.entries(f.sufficiency ?? {})) m[`sufficiency:${k}`] = v;
    for (const [k, v] of Object.entries(f.aopcComprehensiveness ?? {})) m[`aopc-comprehensiveness:${k}`] = v;
    for (const [k, v] of Object.entries(f.aopcSufficiency ?? {})) m[`aopc-sufficiency:${k}`] = v;
  }
  // k-greedy flipping (metrics/flipping.ts): the area under each method's curve
  const flip = (r.rawOutputs?.flipping ?? null) as StoredFlipping | null;
  for (const [method, c] of Object.entries(flip?.curves ?? {})) if (Number.isFinite(c.auc)) m[`flip:${method}`] = c.auc;
  // self-consistency tests (metrics/self-consistency.ts): 1/0 verdicts and the counterfactual's edit distance
  Object.assign(m, selfConsistencyMetrics(r.rawOutputs?.selfConsistency as StoredSelfConsistency | undefined));
  void ex;
  return m;
}

/**
 * ERASER's IOU F1 of each compared pair: the F1 of the mean partial-match precision and the mean
 * partial-match recall ("<level>:<pair>:iou-f1" from "...:iou-precision" and "...:iou-recall").
 */
export function derivedMetrics(names: readonly string[]): DerivedMetric[] {
  const prefixes = [...new Set(names.flatMap((n) => (/:iou-(precision|recall)$/.test(n) ? [n.replace(/:iou-(precision|recall)$/, '')] : [])))].sort();
  return prefixes.map((p) => ({
    name: `${p}:iou-f1`,
    from: [`${p}:iou-precision`, `${p}:iou-recall`],
    combine: ([precision, recall]: readonly number[]) => eraserF1(precision, recall),
  }));
}

export interface RunContext {
  model: string;
  seed: number;
  indicator?: string;
}

/** Splits a per-example key back into a scope and a name for the store. */
function keyToScope(key: string): { scope: Record<string, unknown>; name: string } {
  const parts = key.split(':');
  if (parts[0] === 'word' || parts[0] === 'token') {
    if (parts[1] === 'auprc' || parts[1] === 'average-precision') return { scope: { level: 'token', method: parts[2] }, name: parts[1] };
    return { scope: { level: parts[0], pair: parts[1] }, name: parts[2] };
  }
  if (parts[0] === 'sc') return { scope: { test: parts[1] }, name: parts[2] };
  if (parts[0] === 'flip') return { scope: { method: parts[1] }, name: 'k-greedy-flipping' };
  if (parts[0] === 'share+') return { scope: { method: parts[1], part: parts[2], of: 'positive' }, name: 'relevance-share' };
  if (parts[0] === 'share') return { scope: { method: parts[1], segment: parts[2] }, name: 'relevance-share' };
  if (parts[0] === 'faith') {
    if (parts[1] === 'p0') return { scope: { set: 'unmasked' }, name: 'p' };
    return { scope: { set: parts[2] }, name: parts[1] === 'p' ? 'p' : 'prob-drop' };
  }
  return { scope: { set: parts[1] }, name: parts[0] };
}

/**
 * All metrics of one run: accuracy and invalid rate over answered examples, per-example metrics
 * aggregated (mean, bootstrap 95 % CI) per language, and skip counts by reason.
 */
export function runMetrics(
  results: ResultRecord[],
  examples: Map<number, StoredExample>,
  ctx: RunContext,
  opts: { B?: number } = {},
): MetricInput[] {
  const out: MetricInput[] = [];
  const base = { model: ctx.model, seed: ctx.seed, ...(ctx.indicator ? { indicator: ctx.indicator } : {}) };
  const langOf = (r: ResultRecord) => examples.get(r.exampleId)?.language ?? '';
  const languages = [...new Set(results.map(langOf))].sort();
  const scopes: { language: string | null; rs: ResultRecord[] }[] = [{ language: null, rs: results }];
  if (languages.length > 1) for (const l of languages) scopes.push({ language: l, rs: results.filter((r) => langOf(r) === l) });

  for (const { language, rs } of scopes) {
    const scopeBase = { ...base, ...(language !== null ? { language } : {}) };
    const seed = hashSeed(JSON.stringify(scopeBase));
    // accuracy: every example that got an answer (invalid answers count as wrong); skips for
    // context overflow have no answer and are left out
    const answered = rs.filter((r) => r.label !== null);
    const acc = answered.map((r) => (r.correct ? 1 : 0));
    const inv = answered.map((r) => (r.label === 'invalid' ? 1 : 0));
    for (const [name, vals] of [['accuracy', acc], ['invalid-rate', inv]] as const) {
      const ci = bootstrapMeanCI(vals, { B: opts.B, seed: hashSeed(name, seed) });
      out.push({ scope: scopeBase, name, value: vals.length ? ci.mean : null, ciLow: vals.length ? ci.lo : null, ciHigh: vals.length ? ci.hi : null, n: vals.length });
    }
    const skips: Record<string, number> = {};
    for (const r of rs) if (r.skippedReason) skips[r.skippedReason] = (skips[r.skippedReason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(skips).sort()) out.push({ scope: { ...scopeBase, reason }, name: 'skipped', value: n, n });
    out.push({ scope: scopeBase, name: 'examples', value: rs.length, n: rs.length });

    const recs: ExampleMetrics[] = rs.map((r) => ({
      exampleId: String(r.exampleId),
      metrics: r.skippedReason ? {} : exampleMetrics(r, examples.get(r.exampleId)),
      ...(r.skippedReason ? { skipped: r.skippedReason } : {}),
    }));
    const [g] = aggregate(recs, { B: opts.B, seed, derived: derivedMetrics });
    if (!g) continue;
    out.push({ scope: scopeBase, name: 'evaluated', value: g.evaluated, n: g.evaluated });
    out.push(...summaryRows(g.metrics, scopeBase));
  }
  return out;
}

/** Aggregated per-example metrics as metric rows under a base scope. */
function summaryRows(metrics: Record<string, MetricSummary>, scopeBase: Record<string, unknown>): MetricInput[] {
  return Object.entries(metrics).map(([key, s]) => {
    const { scope, name } = keyToScope(key);
    const defined = s.n > 0 && Number.isFinite(s.mean);
    return {
      scope: { ...scopeBase, ...scope },
      name,
      value: defined ? s.mean : null,
      ciLow: defined ? s.lo : null,
      ciHigh: defined ? s.hi : null,
      n: s.n,
    };
  });
}

/** One seed's run of a model, for pooling. */
export interface SeedRun {
  runId: number;
  seed: number;
  results: ResultRecord[];
  /** The run's dataset examples by id. */
  examples: Map<number, StoredExample>;
}

/** Metric rows of one model pooled over its seeds' runs. */
export interface PooledMetrics {
  model: string;
  indicator?: string;
  studyId?: number;
  runIds: number[];
  seeds: number[];
  rows: MetricInput[];
}

/**
 * A model's metrics pooled over seeds (the runs of one study and model, which differ in the seed). Every
 * figure is the mean over all seeds' per-example values, and its 95 % interval is a cluster bootstrap that
 * resamples example ids and takes all seeds' results of each drawn example (the protocol's "confidence
 * intervals over examples and seeds"); n counts examples. An example is identified by its id in the
 * dataset (`externalId`), so imported runs of the same examples pool too. Accuracy and the invalid rate
 * are pooled the same way over the answered results. Scopes: {model, seeds, [indicator], [language], ...},
 * with a per-language breakdown when the examples mix languages, as in `runMetrics`.
 */
export function pooledMetrics(runs: readonly SeedRun[], ctx: { model: string; indicator?: string }, opts: { B?: number } = {}): PooledMetrics {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const runIds = runs.map((r) => r.runId);
  const base = { model: ctx.model, seeds, ...(ctx.indicator ? { indicator: ctx.indicator } : {}) };
  const all = runs.flatMap((run) =>
    run.results.map((r) => {
      const ex = run.examples.get(r.exampleId);
      return { seed: run.seed, r, ex, unit: ex?.externalId ?? `#${r.exampleId}`, language: ex?.language ?? '' };
    }),
  );
  const languages = [...new Set(all.map((x) => x.language))].sort();
  const scopes: { language: string | null; rs: typeof all }[] = [{ language: null, rs: all }];
  if (languages.length > 1) for (const l of languages) scopes.push({ language: l, rs: all.filter((x) => x.language === l) });
  const rows: MetricInput[] = [];
  for (const { language, rs } of scopes) {
    const scopeBase = { ...base, ...(language !== null ? { language } : {}) };
    const seed = hashSeed(JSON.stringify(scopeBase));
    // accuracy and invalid rate: one cluster per example, its answered results over the seeds
    const answered = rs.filter(({ r }) => r.label !== null);
    for (const [name, f] of [
      ['accuracy', (r: ResultRecord) => (r.correct ? 1 : 0)],
      ['invalid-rate', (r: ResultRecord) => (r.label === 'invalid' ? 1 : 0)],
    ] as const) {
      const clusters = new Map<string, number[]>();
      for (const { r, unit } of answered) {
        const c = clusters.get(unit) ?? [];
        c.push(f(r));
        clusters.set(unit, c);
      }
      const ci = clusterMeanCI([...clusters.values()], { B: opts.B, seed: hashSeed(name, seed) });
      const has = clusters.size > 0;
      rows.push({ scope: scopeBase, name, value: has ? ci.mean : null, ciLow: has ? ci.lo : null, ciHigh: has ? ci.hi : null, n: clusters.size });
    }
    const skips: Record<string, number> = {};
    for (const { r } of rs) if (r.skippedReason) skips[r.skippedReason] = (skips[r.skippedReason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(skips).sort()) rows.push({ scope: { ...scopeBase, reason }, name: 'skipped', value: n, n });
    rows.push({ scope: scopeBase, name: 'examples', value: new Set(rs.map((x) => x.unit)).size, n: rs.length });
    const recs: ExampleMetrics[] = rs.map(({ seed: s, r, ex, unit }) => ({
      exampleId: unit,
      seed: String(s),
      metrics: r.skippedReason ? {} : exampleMetrics(r, ex),
      ...(r.skippedReason ? { skipped: r.skippedReason } : {}),
    }));
    const [g] = aggregatePooled(recs, { B: opts.B, seed, derived: derivedMetrics });
    if (!g) continue;
    rows.push({ scope: scopeBase, name: 'evaluated', value: g.evaluated, n: g.examples });
    rows.push(...summaryRows(g.metrics, scopeBase));
  }
  return { model: ctx.model, ...(ctx.indicator ? { indicator: ctx.indicator } : {}), runIds, seeds, rows };
}

/** A run to pool, with the results to pool (default: all its stored results). */
export interface PoolRun {
  run: RunRecord;
  results?: ResultRecord[];
}

/**
 * Which runs pool together, and their pooled metrics: runs of the same study and model (so the same task,
 * dataset and configuration) with at least two different seeds. The model and indicator are named as the
 * run's stored metrics name them; runs without stored metrics (still running) are left out. Groups in the
 * order of their first run.
 */
export function pooledByModel(store: Store, runs: readonly PoolRun[], opts: { B?: number } = {}): PooledMetrics[] {
  const groups = new Map<string, { head: MetricRecord; studyId: number; members: SeedRun[] }>();
  const examples = new Map<number, Map<number, StoredExample>>();
  for (const { run, results } of runs) {
    const head = store.metrics.list(run.id).find((m) => m.name === 'examples' && m.scope.language === undefined);
    if (!head) continue;
    const k = JSON.stringify([run.studyId, run.modelId]);
    const g = groups.get(k) ?? { head, studyId: run.studyId, members: [] };
    if (!examples.has(run.datasetId)) examples.set(run.datasetId, new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e])));
    g.members.push({ runId: run.id, seed: run.seed, results: results ?? store.results.list(run.id), examples: examples.get(run.datasetId)! });
    groups.set(k, g);
  }
  const out: PooledMetrics[] = [];
  for (const { head, studyId, members } of groups.values()) {
    if (new Set(members.map((m) => m.seed)).size < 2) continue;
    const indicator = head.scope.indicator === undefined ? undefined : String(head.scope.indicator);
    out.push({ ...pooledMetrics(members, { model: String(head.scope.model ?? ''), ...(indicator ? { indicator } : {}) }, opts), studyId });
  }
  return out;
}

/** A model's display name from its file path (an imported run's "imported:NAME" gives NAME). */
export function modelName(path: string): string {
  const base = path.replace(/^imported:/, '').split(/[\\/]/).pop() ?? path;
  return base.replace(/\.gguf$/i, '');
}

/** The name a model is shown and its metrics labelled by: its metadata's name, else its file's. */
export function displayModelName(model: Pick<ModelRecord, 'metadata' | 'path'>): string {
  return (model.metadata as { name?: string } | null)?.name ?? modelName(model.path);
}

/** What a run's metrics are labelled and seeded with (model name, seed, indicator): also written into exports. */
export function runContextOf(store: Store, runId: number): RunContext {
  const run = store.runs.get(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const model = store.models.get(run.modelId)!;
  const study = store.studies.get(run.studyId);
  const task = (study?.config as { task?: { indicator?: string | number } } | undefined)?.task;
  return {
    model: displayModelName(model),
    seed: run.seed,
    ...(task?.indicator ? { indicator: String(task.indicator) } : {}),
  };
}

/** Recomputes and stores (replacing) all metrics of the run; returns how many rows were stored. */
export function computeRunMetrics(store: Store, runId: number, opts: { B?: number } = {}): number {
  const ctx = runContextOf(store, runId);
  const run = store.runs.get(runId)!;
  const examples = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
  const results = store.results.list(runId);
  const rows = runMetrics(results, examples, ctx, opts);
  store.metrics.replace(runId, rows);
  return rows.length;
}
