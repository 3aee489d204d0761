/**
 * ReportData from stored runs: configuration, models, datasets, the metrics stored by the runner (or
 * import-run), and examples picked from the per-example metrics.
 */
import type { MetricRecord, ResultRecord, RunRecord, Store, StoredExample } from '../store';
import { exampleMetrics, pairName } from '../runner/evaluate';
import { modelName } from '../runner/finalize';
import type { Estimate, ExampleSource, ExampleView, FaithfulnessGroup, MetricTable, ReportData, ReportRun } from './types';

export interface BuildOptions {
  title?: string;
  appVersion?: string;
  /** Example ids to show in addition to (or instead of, with autoPick false) the picked ones. */
  examples?: number[];
  autoPick?: boolean;
  now?: Date;
}

const PAIR_ORDER = ['human×self', 'human×lrp-cp', 'human×lrp-attn', 'human×lrp-contrast', 'human×occlusion', 'human×random', 'self×lrp-cp', 'self×lrp-contrast'];
const PRETTY: Record<string, string> = { self: 'self-explanation', 'lrp-cp': 'LRP (cp)', 'lrp-attn': 'LRP (attn)', 'lrp-contrast': 'LRP contrast', occlusion: 'occlusion', random: 'random', human: 'human' };
const prettyPair = (p: string) => p.split('×').map((s) => PRETTY[s] ?? s).join(' × ');

const est = (m: MetricRecord | undefined): Estimate | null => (m ? { value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh, n: m.n } : null);

/** The run-level metric (no per-language scope) matching name and scope fields. */
function find(ms: MetricRecord[], name: string, scope: Record<string, unknown>): MetricRecord | undefined {
  return ms.find((m) => m.name === name && m.scope.language === undefined && Object.entries(scope).every(([k, v]) => m.scope[k] === v));
}

export function buildReportData(store: Store, runIds: number[], opts: BuildOptions = {}): ReportData {
  if (runIds.length === 0) throw new Error('report: no runs given');
  const runs: RunRecord[] = runIds.map((id) => {
    const r = store.runs.get(id);
    if (!r) throw new Error(`report: run ${id} does not exist`);
    return r;
  });
  const studies = [...new Map(runs.map((r) => [r.studyId, store.studies.get(r.studyId)!])).values()];
  const models = [...new Map(runs.map((r) => [r.modelId, store.models.get(r.modelId)!])).values()];
  const datasets = [...new Map(runs.map((r) => [r.datasetId, store.datasets.get(r.datasetId)!])).values()];
  const mName = (id: number) => {
    const m = store.models.get(id)!;
    return (m.metadata as { name?: string })?.name ?? modelName(m.path);
  };
  const dName = (id: number) => store.datasets.get(id)!.name;
  const metrics = new Map(runs.map((r) => [r.id, store.metrics.list(r.id)]));
  // a run's column label names only what differs between the runs (model, dataset, seed): four demo
  // runs of one model and seed are "demo-news", "demo-sentiment-da", ... rather than four 60-character labels
  const varies = (f: (r: RunRecord) => unknown) => new Set(runs.map(f)).size > 1;
  const labelParts = (r: RunRecord) => [
    ...(varies((x) => x.modelId) || !(varies((x) => x.datasetId) || varies((x) => x.seed)) ? [mName(r.modelId)] : []),
    ...(varies((x) => x.datasetId) ? [dName(r.datasetId)] : []),
    ...(varies((x) => x.seed) ? [String(r.seed)] : []),
  ];
  const baseLabels = runs.map((r) => labelParts(r).join(' · '));
  const labels = new Map(runs.map((r, i) => [r.id, baseLabels.filter((x) => x === baseLabels[i]).length > 1 ? `${baseLabels[i]} · run ${r.id}` : baseLabels[i]]));
  const col = (r: RunRecord) => labels.get(r.id)!;
  const columns = runs.map(col);

  const reportRuns: ReportRun[] = runs.map((r) => {
    const ms = metrics.get(r.id)!;
    const skipped: Record<string, number> = {};
    for (const m of ms) if (m.name === 'skipped' && m.scope.language === undefined) skipped[String(m.scope.reason)] = m.value ?? 0;
    return {
      id: r.id,
      model: mName(r.modelId),
      dataset: dName(r.datasetId),
      seed: r.seed,
      status: r.status,
      done: r.progress.done,
      total: r.progress.total,
      skipped,
      accuracy: est(find(ms, 'accuracy', {})),
    };
  });

  // plausibility tables and heatmap
  const pairsPresent = (level: string) =>
    PAIR_ORDER.filter((p) => runs.some((r) => find(metrics.get(r.id)!, 'kappa', { level, pair: p })));
  const tables: MetricTable[] = [];
  for (const level of ['word', 'token']) {
    const pairs = pairsPresent(level);
    if (!pairs.length) continue;
    const rows: MetricTable['rows'] = [];
    for (const p of pairs) {
      for (const name of ['kappa', 'f1', 'precision', 'recall', 'iou-f1']) {
        const cells = runs.map((r) => est(find(metrics.get(r.id)!, name, { level, pair: p })));
        if (cells.some(Boolean)) rows.push({ label: `${prettyPair(p)}: ${name}`, cells });
      }
    }
    tables.push({
      title: `Plausibility, ${level} level`,
      caption: `Agreement of binary masks over the text's own ${level === 'word' ? 'words' : 'model tokens'} (first source = reference). Continuous scores binarised as configured (default: top-k, k = the human rationale's size). Kappa is 0 when either mask is empty. Mean over examples [95 % bootstrap interval].`,
      columns,
      rows,
    });
  }
  const auprcMethods = ['lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random'].filter((m) => runs.some((r) => find(metrics.get(r.id)!, 'auprc', { method: m })));
  if (auprcMethods.length) {
    tables.push({
      title: 'AUPRC of continuous scores against the human rationale (ERASER)',
      columns,
      rows: auprcMethods.map((m) => ({ label: PRETTY[m] ?? m, cells: runs.map((r) => est(find(metrics.get(r.id)!, 'auprc', { method: m }))) })),
    });
  }
  const eraser: MetricTable['rows'] = [];
  for (const name of ['comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency']) {
    const sets = [...new Set(runs.flatMap((r) => metrics.get(r.id)!.filter((m) => m.name === name && m.scope.language === undefined).map((m) => String(m.scope.set))))];
    for (const s of sets) eraser.push({ label: `${name}: ${PRETTY[s] ?? s}`, cells: runs.map((r) => est(find(metrics.get(r.id)!, name, { set: s }))) });
  }
  if (eraser.length) tables.push({ title: 'Faithfulness, ERASER comprehensiveness and sufficiency', caption: 'Higher comprehensiveness and lower sufficiency = more faithful. AOPC: mean over 1/5/10/20/50 % of the text tokens.', columns, rows: eraser });
  const accRows: MetricTable['rows'] = [
    { label: 'accuracy', cells: runs.map((r) => est(find(metrics.get(r.id)!, 'accuracy', {}))) },
    { label: 'invalid answers (rate)', cells: runs.map((r) => est(find(metrics.get(r.id)!, 'invalid-rate', {}))) },
  ];
  tables.unshift({ title: 'Classification', caption: 'Over examples that got an answer; invalid answers count as wrong.', columns, rows: accRows });

  const hmPairs = pairsPresent('word').length ? pairsPresent('word') : pairsPresent('token');
  const hmLevel = pairsPresent('word').length ? 'word' : 'token';
  const heatmap = hmPairs.length
    ? {
        title: `Plausibility heatmap (Cohen’s kappa, ${hmLevel} level)`,
        metric: 'kappa',
        rows: hmPairs.map(prettyPair),
        columns,
        values: hmPairs.map((p) => runs.map((r) => est(find(metrics.get(r.id)!, 'kappa', { level: hmLevel, pair: p })))),
      }
    : null;

  const faithfulness: FaithfulnessGroup[] = [];
  for (const r of runs) {
    const ms = metrics.get(r.id)!;
    const p0 = find(ms, 'p', { set: 'unmasked' });
    if (!p0) continue;
    const sets = ms.filter((m) => m.name === 'p' && m.scope.language === undefined && m.scope.set !== 'unmasked');
    faithfulness.push({ label: col(r), unmasked: est(p0)!, bars: sets.map((m) => ({ set: PRETTY[String(m.scope.set)] ?? String(m.scope.set), value: est(m)! })) });
  }

  const relevanceLocation = runs.flatMap((r) => {
    const ms = metrics.get(r.id)!.filter((m) => m.name === 'relevance-share' && m.scope.language === undefined);
    const methods = [...new Set(ms.map((m) => String(m.scope.method)))];
    return methods.map((method) => ({
      label: `${PRETTY[method] ?? method} · ${col(r)}`,
      shares: Object.fromEntries(ms.filter((m) => m.scope.method === method).map((m) => [String(m.scope.segment), m.value ?? 0])),
    }));
  });

  const examples = pickExamples(store, runs, opts, mName);
  const notes: string[] = [];
  runs.forEach((run, i) => {
    const r = reportRuns[i];
    const sk = Object.entries(r.skipped);
    if (sk.length) notes.push(`Run ${r.id}: skipped ${sk.map(([k, v]) => `${v} × ${k}`).join(', ')}.`);
    if (r.status !== 'done') notes.push(`Run ${r.id} is ${r.status} (${r.done}/${r.total}); figures cover the stored examples only.`);
    // a run imported from elsewhere (import-run): where from, under which answer rule, and what the token
    // decoding found (e.g. no matching tokenizer: per-token heatmaps then show ids only)
    const t = run.timings;
    if (typeof t.imported !== 'string') return;
    notes.push(`Run ${r.id}: imported from ${t.imported}${typeof t.rule === 'string' ? ` (answers scored with the ${t.rule} rule)` : ''}.`);
    if (Array.isArray(t.notes)) for (const n of t.notes) if (typeof n === 'string') notes.push(`Run ${r.id}: ${n}.`);
  });

  return {
    title: opts.title ?? `Rationale Workbench report: ${studies.map((s) => s.name).join(', ')}`,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    appVersion: opts.appVersion ?? '0.1.0',
    study: { id: studies.length === 1 ? studies[0].id : null, name: studies.map((s) => s.name).join(', '), config: studies.length === 1 ? studies[0].config : studies.map((s) => s.config) },
    models: models.map((m) => ({
      name: (m.metadata as { name?: string })?.name ?? modelName(m.path),
      path: m.path,
      sha256: m.sha256,
      architecture: m.architecture,
      parameterCount: m.parameterCount,
      quantization: m.quantization,
      contextLength: m.contextLength,
    })),
    datasets: datasets.map((d) => ({ name: d.name, format: d.format, language: d.language, sourcePath: d.sourcePath, sha256: d.sourceSha256, examples: d.exampleCount, withRationale: d.withRationale })),
    runs: reportRuns,
    tables,
    heatmap,
    faithfulness,
    relevanceLocation,
    examples,
    notes,
  };
}

/** Text tokens of a stored result as units of the example text (stored offsets are into the text). */
function textUnits(r: ResultRecord, ex: StoredExample): { idx: number; start: number; end: number }[] {
  const toks = (r.tokens ?? []).flatMap((t, idx) => (t.segment === 'text' && t.end <= ex.text.length ? [{ t, idx }] : []));
  return toks.flatMap(({ t, idx }, k) => {
    // byte-fallback tokens share their character's span (protocol/offsets.ts): the character is shown once,
    // on the token that completes it, as the Inspector shows each token's own text
    const next = toks[k + 1]?.t;
    const end = next && next.start < t.end ? next.start : t.end;
    return end > t.start ? [{ idx, start: t.start, end }] : [];
  });
}

export function exampleView(r: ResultRecord, ex: StoredExample, reason: string, title: string, note?: string): ExampleView[] {
  const masks = r.masks ?? {};
  const wordSources: ExampleSource[] = [];
  for (const s of ['human', 'self', 'lrp-cp', 'lrp-contrast', 'occlusion']) {
    const m = masks[`${s}/word`];
    if (m && m.length === ex.words.length) wordSources.push({ name: `${PRETTY[s]} (words)`, kind: 'binary', values: m });
  }
  const views: ExampleView[] = [];
  const meta = { text: ex.text, language: ex.language, gold: ex.labels.join(', '), prediction: r.label, note: note ?? null };
  if (wordSources.length) views.push({ reason, title, ...meta, units: ex.words.map((w) => ({ start: w.start, end: w.end })), sources: wordSources });
  const units = textUnits(r, ex);
  if (units.length) {
    const tokSources: ExampleSource[] = [];
    for (const rel of r.relevance) {
      const vals = Array.from(rel.values);
      if (vals.length !== (r.tokens ?? []).length) continue;
      tokSources.push({ name: PRETTY[rel.method] ?? rel.method, kind: rel.method === 'random' ? 'positive' : 'signed', values: units.map((u) => vals[u.idx]) });
    }
    for (const s of ['human', 'self']) {
      const m = masks[`${s}/token`];
      if (m && m.length === (r.tokens ?? []).length) tokSources.push({ name: `${PRETTY[s]} (tokens)`, kind: 'binary', values: units.map((u) => m[u.idx]) });
    }
    if (tokSources.length) views.push({ reason, title: `${title}: model tokens`, ...meta, units: units.map(({ start, end }) => ({ start, end })), sources: tokSources });
  }
  return views;
}

function pickExamples(store: Store, runs: RunRecord[], opts: BuildOptions, mName: (id: number) => string): ExampleView[] {
  const out: ExampleView[] = [];
  const chosen = new Set(opts.examples ?? []);
  for (const run of runs) {
    const exById = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
    const results = store.results.list(run.id).filter((r) => !r.skippedReason);
    const label = (ex: StoredExample) => `${mName(run.modelId)} · example ${ex.externalId}`;
    for (const id of chosen) {
      const r = results.find((x) => x.exampleId === id);
      const ex = exById.get(id);
      if (r && ex) out.push(...exampleView(r, ex, 'chosen', label(ex)));
    }
    if (opts.autoPick === false) continue;
    const scored = results
      .map((r) => ({ r, m: exampleMetrics(r, exById.get(r.exampleId)) }))
      .map(({ r, m }) => ({
        r,
        hs: m[`word:${pairName('human', 'self')}:kappa`] ?? m[`token:${pairName('human', 'self')}:kappa`] ?? null,
        hl: m[`word:${pairName('human', 'lrp-cp')}:kappa`] ?? m[`token:${pairName('human', 'lrp-cp')}:kappa`] ?? null,
        sl: m[`token:${pairName('self', 'lrp-cp')}:kappa`] ?? m[`word:${pairName('self', 'lrp-cp')}:kappa`] ?? null,
      }))
      .filter((s) => s.hs !== null);
    if (!scored.length) continue;
    // ties broken by example order (first wins), so the pick is deterministic
    const best = scored.reduce((a, b) => (b.hs! > a.hs! ? b : a));
    const worst = scored.reduce((a, b) => (b.hs! < a.hs! ? b : a));
    const dis = scored.filter((s) => s.hl !== null).map((s) => ({ ...s, d: Math.abs(s.hs! - s.hl!) }));
    const disagree = dis.length ? dis.reduce((a, b) => (b.d > a.d ? b : a)) : null;
    const picks: [string, typeof best, string][] = [
      ['best', best, `kappa human × self ${best.hs!.toFixed(2)}`],
      ['worst', worst, `kappa human × self ${worst.hs!.toFixed(2)}`],
    ];
    if (disagree) picks.push(['biggest disagreement', disagree, `kappa human × self ${disagree.hs!.toFixed(2)} vs human × LRP ${disagree.hl!.toFixed(2)}`]);
    const seen = new Set<number>();
    for (const [reason, p, note] of picks) {
      if (seen.has(p.r.exampleId)) continue;
      seen.add(p.r.exampleId);
      const ex = exById.get(p.r.exampleId)!;
      out.push(...exampleView(p.r, ex, reason, label(ex), note));
    }
  }
  return out;
}
