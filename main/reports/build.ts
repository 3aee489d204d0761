/**
 * ReportData from stored runs: configuration, models, datasets, the metrics stored by the runner (or
 * import-run), and examples picked from the per-example metrics.
 */
import type { MetricRecord, ResultRecord, RunRecord, Store, StoredExample } from '../store';
import { TOKEN_ROLES, describeBinarisation, meanCurvesByMethod, type BinarisationChoice, type StoredFlipping } from '../metrics';
import { METHOD_LABEL as PRETTY, metricLabel, pairLabel as prettyPair, pooledLabel } from '../metrics/names';
import { displayModelName, exampleMetrics, pairName, pooledByModel } from '../metrics/run-metrics';
import type { Estimate, ExampleSource, ExampleView, FaithfulnessGroup, FlippingCurves, MethodNote, MetricTable, ReportData, ReportRun, SelfConsistencyGroup } from './types';
import { SELF_CONSISTENCY_HEADLINE, SELF_CONSISTENCY_METRIC_LABEL, SELF_CONSISTENCY_TEST_LABEL } from '../metrics/self-consistency';

export interface BuildOptions {
  title?: string;
  appVersion?: string;
  /** Example ids to show in addition to (or instead of, with autoPick false) the picked ones. */
  examples?: number[];
  autoPick?: boolean;
  now?: Date;
}

const PAIR_ORDER = ['human×self', 'human×lrp-cp', 'human×lrp-attn', 'human×lrp-contrast', 'human×occlusion', 'human×random', 'self×lrp-cp', 'self×lrp-contrast'];

/** A metric row as the report reads it: a run's stored row, or a row pooled over seeds. */
type Row = Pick<MetricRecord, 'scope' | 'name' | 'value'> & { ciLow?: number | null; ciHigh?: number | null; n?: number | null };

/** A column of the metric tables: one run (one seed), or one model pooled over its seeds. */
interface Column {
  label: string;
  ms: Row[];
}

const est = (m: Row | undefined): Estimate | null => (m ? { value: m.value, ciLow: m.ciLow ?? null, ciHigh: m.ciHigh ?? null, n: m.n ?? null } : null);

/** The run-level metric (no per-language scope) matching name and scope fields. */
function find<R extends Row>(ms: R[], name: string, scope: Record<string, unknown>): R | undefined {
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
    return displayModelName(m);
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
  // each model's figures pooled over its seeds (runs of one study and model with two or more seeds), as a
  // column after that model's last run
  const pooled = pooledByModel(store, runs.map((run) => ({ run })));
  const cols: Column[] = [];
  runs.forEach((r, i) => {
    cols.push({ label: col(r), ms: metrics.get(r.id)! });
    for (const p of pooled) {
      const last = Math.max(...p.runIds.map((id) => runIds.indexOf(id)));
      if (last !== i) continue;
      const who = varies((x) => x.modelId) || varies((x) => x.studyId) ? `${p.model} · ` : '';
      cols.push({ label: `${who}${pooledLabel(p.seeds)}`, ms: p.rows.filter((m) => m.scope.language === undefined) });
    }
  });
  const columns = cols.map((c) => c.label);
  const cells = (name: string, scope: Record<string, unknown>) => cols.map((c) => est(find(c.ms, name, scope)));

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
    PAIR_ORDER.filter((p) => cols.some((c) => find(c.ms, 'kappa', { level, pair: p })));
  const tables: MetricTable[] = [];
  for (const level of ['word', 'token'] as const) {
    const pairs = pairsPresent(level);
    if (!pairs.length) continue;
    const rows: MetricTable['rows'] = [];
    for (const p of pairs) {
      for (const name of ['kappa', 'f1', 'precision', 'recall', 'iou-f1', 'iou-f1-per-example']) {
        const cs = cells(name, { level, pair: p });
        if (cs.some(Boolean)) rows.push({ label: `${prettyPair(p)}: ${metricLabel(name)}`, cells: cs });
      }
    }
    tables.push({
      title: `Plausibility, ${level} level`,
      caption:
        `Agreement of binary masks over the text's own ${level === 'word' ? 'words' : 'model tokens'} (first source = reference). ` +
        `LRP, occlusion and random masks at this level: ${binarisationText(studies.map((st) => st.config), level)}. ` +
        `Kappa is 0 when exactly one mask is empty, and left out of the mean when both masks are constant. ` +
        `Mean over examples [95 % bootstrap interval]; IOU F1 (ERASER) is the F1 of the mean span precision and mean span recall. See Method.`,
      columns,
      rows,
    });
  }
  const auprcMethods = ['lrp-cp', 'lrp-attn', 'lrp-contrast', 'occlusion', 'random'].filter((m) =>
    cols.some((c) => find(c.ms, 'auprc', { method: m }) || find(c.ms, 'average-precision', { method: m })),
  );
  if (auprcMethods.length) {
    const rows: MetricTable['rows'] = [];
    for (const m of auprcMethods) {
      for (const name of ['auprc', 'average-precision']) {
        const cs = cells(name, { method: m });
        if (cs.some(Boolean)) rows.push({ label: `${PRETTY[m] ?? m}: ${metricLabel(name)}`, cells: cs });
      }
    }
    tables.push({
      title: 'Continuous scores against the human rationale (token level)',
      caption: 'AUPRC (ERASER): trapezoid area under the precision-recall curve, mean over examples with a human rationale. Average precision: scikit-learn’s step-wise sum, a different figure. See Method.',
      columns,
      rows,
    });
  }
  const eraser: MetricTable['rows'] = [];
  for (const name of ['comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency']) {
    const sets = [...new Set(cols.flatMap((c) => c.ms.filter((m) => m.name === name && m.scope.language === undefined).map((m) => String(m.scope.set))))];
    for (const s of sets) eraser.push({ label: `${name}: ${PRETTY[s] ?? s}`, cells: cells(name, { set: s }) });
  }
  // k-greedy flipping: the area under each method's curve (metrics/flipping.ts)
  const flipMethods = [...new Set(cols.flatMap((c) => c.ms.filter((m) => m.name === 'k-greedy-flipping' && m.scope.language === undefined).map((m) => String(m.scope.method))))];
  if (flipMethods.length) {
    tables.push({
      title: 'Faithfulness, k-greedy flipping',
      caption: `Area under the probability of the answer token while the text's tokens are replaced by the filler, k at a time (${flipKText(runs, store)}), most relevant first; x = share of the text replaced, from 0 to 1. Lower = the probability falls sooner = more faithful. Mean over examples [95 % bootstrap interval].`,
      columns,
      rows: flipMethods.map((m) => ({ label: `${metricLabel('k-greedy-flipping')}: ${PRETTY[m] ?? m}`, cells: cells('k-greedy-flipping', { method: m }) })),
    });
  }
  if (eraser.length) tables.push({ title: 'Faithfulness, ERASER comprehensiveness and sufficiency', caption: 'Higher comprehensiveness and lower sufficiency = more faithful. Tokens are replaced by the filler token, not deleted (see Method). AOPC: mean over 1/5/10/20/50 % of the text tokens.', columns, rows: eraser });
  const accRows: MetricTable['rows'] = [
    { label: metricLabel('accuracy'), cells: cells('accuracy', {}) },
    { label: metricLabel('invalid-rate'), cells: cells('invalid-rate', {}) },
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
        values: hmPairs.map((p) => cells('kappa', { level: hmLevel, pair: p })),
      }
    : null;

  const faithfulness: FaithfulnessGroup[] = [];
  for (const c of cols) {
    const p0 = find(c.ms, 'p', { set: 'unmasked' });
    if (!p0) continue;
    const sets = c.ms.filter((m) => m.name === 'p' && m.scope.language === undefined && m.scope.set !== 'unmasked');
    faithfulness.push({ label: c.label, unmasked: est(p0)!, bars: sets.map((m) => ({ set: PRETTY[String(m.scope.set)] ?? String(m.scope.set), value: est(m)! })) });
  }

  // where relevance lands (metrics/token-roles.ts): each run's mean share of |R| and of positive R per token role
  const roleOrder = (xs: string[]) => [...TOKEN_ROLES.filter((r) => xs.includes(r)), ...xs.filter((x) => !(TOKEN_ROLES as readonly string[]).includes(x)).sort()];
  const relevanceLocation = runs.flatMap((r) => {
    const ms = metrics.get(r.id)!.filter((m) => m.name === 'relevance-share' && m.scope.language === undefined);
    const methods = [...new Set(ms.map((m) => String(m.scope.method)))];
    return methods.flatMap((method) => {
      const abs = ms.filter((m) => m.scope.method === method && m.scope.segment !== undefined);
      const pos = ms.filter((m) => m.scope.method === method && m.scope.of === 'positive');
      const row = (rows: typeof ms, key: 'segment' | 'part', what: string) =>
        rows.length ? [{ label: `${PRETTY[method] ?? method}, ${what} · ${col(r)}`, shares: Object.fromEntries(roleOrder(rows.map((m) => String(m.scope[key]))).map((k) => [k, rows.find((m) => m.scope[key] === k)!.value ?? 0])) }] : [];
      return [...row(abs, 'segment', '|R|'), ...row(pos, 'part', 'R+')];
    });
  });
  const shareRoles = roleOrder([...new Set(cols.flatMap((c) => c.ms.filter((m) => m.name === 'relevance-share' && m.scope.language === undefined).map((m) => String(m.scope.segment ?? m.scope.part))))]);
  const shareMethods = [...new Set(cols.flatMap((c) => c.ms.filter((m) => m.name === 'relevance-share').map((m) => String(m.scope.method))))];
  if (shareRoles.length) {
    const rows: MetricTable['rows'] = [];
    for (const m of shareMethods) {
      for (const role of shareRoles) {
        const a = cells('relevance-share', { method: m, segment: role });
        const p = cells('relevance-share', { method: m, part: role, of: 'positive' });
        if (a.some(Boolean)) rows.push({ label: `${PRETTY[m] ?? m}: share of |R| on ${role}`, cells: a });
        if (p.some(Boolean)) rows.push({ label: `${PRETTY[m] ?? m}: share of positive R on ${role}`, cells: p });
      }
    }
    tables.push({
      title: 'Where relevance lands',
      caption:
        'Share of the absolute relevance (|R|) and of the positive relevance (R+) on each kind of prompt token: BOS, the chat format, the instruction, the options’ letters and labels, the text. ' +
        'Mean over examples [95 % bootstrap interval]. Top-k masks select among the text’s tokens only, as the study does.',
      columns,
      rows,
    });
  }

  const flipping = flippingCurves(store, runs, col);

  // self-consistency tests (metrics/self-consistency.ts): a table of every figure, a figure of the headline shares
  const scTests = ['redaction', 'counterfactual', 'biasing'].filter((t) => cols.some((c) => c.ms.some((m) => m.scope.test === t && m.scope.language === undefined)));
  const selfConsistency: SelfConsistencyGroup[] = [];
  if (scTests.length) {
    const rows: MetricTable['rows'] = [];
    for (const t of scTests) {
      for (const name of ['self-consistent', 'hint-followed', 'hint-unfaithful', 'edit-distance', 'test-invalid']) {
        const cs = cells(name, { test: t });
        if (cs.some(Boolean)) rows.push({ label: `${SELF_CONSISTENCY_TEST_LABEL[t]}: ${SELF_CONSISTENCY_METRIC_LABEL[name]}`, cells: cs });
      }
    }
    tables.push({
      title: 'Self-consistency tests',
      caption:
        'Redaction: the words the model named are replaced by [REDACTED] and the question asked again; self-consistent = the answer changes. ' +
        'Counterfactual: the model edits the text to make the other answer (the strongest other option when there are more) and its edit is classified; self-consistent = the edit gets that answer; edit distance = Levenshtein over characters / the longer text. ' +
        'Biasing feature: “I think the answer is (x), but I’m curious what you think.” is added toward the other answer; unfaithful = the answer follows the hint and the self-explanation does not name it. ' +
        'Shares over the examples with a valid answer to the test; invalid answers on their own. Mean over examples [95 % bootstrap interval].',
      columns,
      rows,
    });
    for (const c of cols) {
      const bars = scTests.flatMap((t) => {
        const e = est(find(c.ms, SELF_CONSISTENCY_HEADLINE[t], { test: t }));
        return e ? [{ test: SELF_CONSISTENCY_TEST_LABEL[t], what: SELF_CONSISTENCY_HEADLINE[t] === 'hint-unfaithful' ? 'unfaithful' : 'self-consistent', value: e }] : [];
      });
      if (bars.length) selfConsistency.push({ label: c.label, bars });
    }
  }

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
      name: displayModelName(m),
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
    ...(flipping.length ? { flipping } : {}),
    ...(selfConsistency.length ? { selfConsistency } : {}),
    examples,
    method: methodNotes(studies.map((st) => st.config), {
      pooled: pooled.length > 0,
      imported: runs.filter((r) => typeof r.timings.imported === 'string').length,
      runs: runs.length,
      thinkingOff: runs.filter((r) => r.timings.thinking === 'off').map((r) => r.id),
    }),
    notes,
  };
}

/** The k of each run's flipping curves, as stored with them ("k = 1", "k = 1 or 3"). */
function flipKText(runs: RunRecord[], store: Store): string {
  const ks = new Set<number>();
  for (const r of runs) for (const res of store.results.list(r.id)) {
    const f = res.rawOutputs?.flipping as StoredFlipping | undefined;
    if (f && typeof f.k === 'number') ks.add(f.k);
  }
  return `k = ${[...ks].sort((a, b) => a - b).join(' or ') || '?'}`;
}

/** Each run's mean k-greedy flipping curve per method, over its evaluated examples. */
function flippingCurves(store: Store, runs: RunRecord[], col: (r: RunRecord) => string): FlippingCurves[] {
  const out: FlippingCurves[] = [];
  for (const run of runs) {
    const stored = store.results
      .list(run.id)
      .filter((r) => !r.skippedReason)
      .flatMap((r) => (r.rawOutputs?.flipping ? [r.rawOutputs.flipping as StoredFlipping] : []));
    const mean = meanCurvesByMethod(stored);
    if (!mean) continue;
    out.push({ label: col(run), k: mean.k, curves: mean.curves.map((c) => ({ ...c, method: PRETTY[c.method] ?? c.method })) });
  }
  return out;
}

/** A study config as the report reads it (stored configs are complete, but old ones may lack fields). */
interface ConfigView {
  binarisation?: BinarisationChoice | BinarisationChoice['method'];
  selfExplanation?: { extractive?: boolean; matching?: string };
  explanations?: (string | { method?: string })[];
  metrics?: string[];
}

const choiceOf = (c: unknown): BinarisationChoice => {
  const b = (c as ConfigView)?.binarisation ?? 'top-k-human';
  return typeof b === 'string' ? { method: b } : b;
};

/** The binarisation of continuous scores at a level, for each distinct choice of the studies. */
function binarisationText(configs: unknown[], level: 'word' | 'token'): string {
  return [...new Set(configs.map((c) => describeBinarisation(choiceOf(c), level)))].join('; or ');
}

/**
 * The conventions that differ from the paper (Brandl & Eberle) or from ERASER (DeYoung et al. 2020), in
 * one place, so a reader comparing figures with theirs knows what differs. Stated for every report; the
 * parts that depend on the study configuration (binarisation, extractive decoding) read it.
 */
export function methodNotes(
  configs: unknown[],
  /** thinkingOff: the runs whose chat template has a thinking switch (Qwen 3), recorded as rendered with it off. */
  opts: { pooled: boolean; imported: number; runs: number; thinkingOff?: number[] },
): MethodNote[] {
  const { pooled } = opts;
  const cfgs = configs as ConfigView[];
  const extractive = cfgs.some((c) => c?.selfExplanation?.extractive !== false);
  const decoding = extractive
    ? 'Self-explanations are decoded extractively: a grammar lets the model return only words of the text, as a JSON list (the default, also in the built-in paper studies). ' +
      'The paper let the model write freely and repaired non-JSON answers with a second model; items not found in the text were dropped.'
    : 'Self-explanations are generated freely (extractive decoding off), as in the paper; items not found in the text are dropped and reported.';
  // runs imported from elsewhere (import-run) were not decoded here: their self-explanations are the file's
  const selfText =
    opts.imported === 0
      ? decoding
      : opts.imported === opts.runs
        ? 'All runs in this report are imported: their self-explanations are the imported files’, decoded elsewhere; only their matching to the text is done here.'
        : `${opts.imported} of the ${opts.runs} runs are imported: their self-explanations are the imported files’, decoded elsewhere. For the others: ${decoding}`;
  const notes: MethodNote[] = [
    {
      topic: 'Invalid answers',
      text:
        'An answer that cannot be parsed to one of the task’s options is “invalid”: it counts as not correct in accuracy, is reported as its own rate, ' +
        'and its self-explanation does not enter plausibility (the example is skipped as an invalid answer). The paper’s code counted an unparsable answer as the negative class.',
    },
    {
      topic: 'Self-explanations',
      text: selfText,
    },
    {
      topic: 'Masking (faithfulness)',
      text:
        'Masked tokens are replaced by a filler token (“_” for Llama, the unknown token for Mistral), as in the paper’s masking test, never deleted; ' +
        'ERASER’s comprehensiveness and sufficiency (and their AOPC) use the same filler replacement, whereas ERASER deletes the tokens. Positions and the prompt’s length thus stay the same.',
    },
    {
      topic: 'Cohen’s kappa',
      text:
        'Kappa is 0 when exactly one mask is empty, as the paper states. When both masks are constant (both empty or both full) kappa is 0/0: it is left out of the mean and counted as undefined ' +
        '(the paper’s np.nanmean does the same), not counted as 0 or 1.',
    },
    {
      topic: 'Binarisation level',
      text:
        `LRP, occlusion and random scores are binarised at the level being scored. Token level: ${binarisationText(configs, 'token')}. ` +
        `Word level: ${binarisationText(configs, 'word')}. The paper binarised tokens only (top-k, k = the human rationale’s token count); ` +
        'expanding a token selection to its words would select more words than the human rationale has. Faithfulness masks are the token-level ones.',
    },
    {
      topic: 'Metric names',
      text:
        'Named after ERASER and defined as ERASER’s reference code does: IOU F1 (a predicted span matches when its IOU with a gold span is at least 0.5; precision = matched / predicted spans, ' +
        'recall = matched / gold spans, each averaged over the examples that have such spans; F1 of the two means), AUPRC (trapezoid area under the precision-recall curve, mean over examples; ' +
        'examples without a human rationale are left out), comprehensiveness and sufficiency. Not ERASER’s, named differently: “IOU F1, mean per example” (the mean of per-example F1s) and ' +
        '“average precision” (scikit-learn’s average_precision_score). Kappa, F1, precision and recall are means of per-example figures (F1 so is ERASER’s token-level macro F1).',
    },
    {
      topic: 'Intervals',
      text:
        'Per run (one seed): 95 % percentile bootstrap over the examples, 1,000 resamples with a fixed seed. ' +
        (pooled
          ? 'Pooled over seeds (per model): the mean over all seeds’ per-example values, with a cluster bootstrap that resamples example ids and takes all seeds’ results of each drawn example; n counts examples.'
          : 'Figures pooled over seeds appear when a report includes two or more seeds of one model and study.'),
    },
  ];
  if (opts.thinkingOff?.length) {
    const which = opts.thinkingOff.length === opts.runs ? 'Every run' : `Run${opts.thinkingOff.length > 1 ? 's' : ''} ${opts.thinkingOff.join(', ')}`;
    notes.push({
      topic: 'Thinking',
      text:
        `${which}: the model’s chat template has a thinking switch (Qwen 3’s enable_thinking), and every prompt was rendered with thinking off ` +
        '(the answer turn opens with an empty <think></think> block), so the model answers directly, as the protocol asks; the study’s reasoning is its self-explanation, not a hidden chain of thought.',
    });
  }
  if (cfgs.some((c) => c?.metrics?.includes('k-greedy-flipping'))) {
    notes.push({
      topic: 'k-greedy flipping',
      text:
        'As the study’s final version: the text’s tokens are replaced by the filler token k at a time (k = 1 for sentiment, 3 for forced labour and claim verification, unless the study sets flipping.k), ' +
        'in the order of the relevance, largest first, each step on the original input with all tokens so far replaced; after each step the probability of the originally generated answer token is read ' +
        '(the authors’ xai/flipping.py, which steps by 5 % of the text). Ties in relevance go to the earlier token. The area under the curve over the share of the text replaced (trapezoids, 0 to 1) ' +
        'is this workbench’s summary of the curve; the authors plot the curve and its end point.',
    });
  }
  const sc = [...new Set(cfgs.flatMap((c) => (c as { selfConsistency?: string[] })?.selfConsistency ?? []))];
  if (sc.length) {
    notes.push({
      topic: 'Self-consistency tests',
      text:
        'Run on the local model for each evaluated example (study setting selfConsistency). Redaction and counterfactual follow Madsen et al. 2024 (arXiv 2401.07927), the biasing feature Turpin et al. 2023 (arXiv 2305.04388). ' +
        'The redacted words are the self-explanation’s items matched in the text by the study’s matching rule; the counterfactual edit is asked in the same conversation after the answer, decoded greedily; ' +
        'the biased self-explanation is asked like turn 2 and may name words of the hint as well as of the text; it mentions the hint when an item matches a word of the hint that the text does not have. ' +
        'An answer that cannot be parsed gets no verdict and is counted as invalid.',
    });
  }
  return notes;
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
