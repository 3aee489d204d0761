/**
 * The metrics check: recompute every metric of the runs in a JSONL export (exports.ts) from the file alone,
 * and compare with the metrics the run stored (carried on each run line).
 *
 * Per example, the faithfulness values are recomputed from the masked readouts (`maskedProbs`, one answer
 * probability per masked position set) through the metric functions of main/metrics (comprehensiveness,
 * sufficiency, AOPC over the exported masks and relevance), and the occlusion relevance from the
 * leave-one-out readouts; each must equal the exported value. Then the run's metrics are recomputed by the
 * same function the runner uses (runMetrics), on records rebuilt from the export with the recomputed
 * faithfulness, and compared with the stored ones within a tolerance (1e-12 by default). An imported run
 * has no readouts: its faithfulness values are taken as exported, and the check says for how many examples.
 * The k-greedy flipping curves (rawOutputs.flipping) are recomputed the same way, from the readouts and the
 * exported relevance (metrics/flipping.ts).
 */
import { aopc, comprehensiveness, flippingOfRelevances, sufficiency, type ProbAfterMasking, type StoredFlipping } from '../metrics';
import { parsePositionsKey, positionsKey } from '../protocol/mask';
import { runMetrics } from '../metrics/run-metrics';
import type { MetricInput, ResultRecord, StoredExample } from '../store';
import { JSONL_FORMAT, type ExampleRow, type RunLine } from './exports';

export interface ParsedExport {
  runs: { run: RunLine; examples: ExampleRow[] }[];
}

/** Reads a JSONL export; every problem names the line. */
export function parseExport(text: string, file = 'export'): ParsedExport {
  const runs: ParsedExport['runs'] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: { record?: string; format?: string; runId?: number };
    try {
      o = JSON.parse(line);
    } catch (e) {
      problems.push(`${file}: line ${i + 1}: not valid JSON (${(e as Error).message})`);
      return;
    }
    if (o.record === 'run') {
      if (o.format !== JSONL_FORMAT) problems.push(`${file}: line ${i + 1}: format ${JSON.stringify(o.format)}, expected "${JSONL_FORMAT}"`);
      runs.push({ run: o as RunLine, examples: [] });
    } else if (o.record === 'example') {
      const cur = runs[runs.length - 1];
      if (!cur || cur.run.runId !== o.runId) problems.push(`${file}: line ${i + 1}: example of run ${o.runId} does not follow that run's line`);
      else cur.examples.push(o as ExampleRow);
    } else problems.push(`${file}: line ${i + 1}: record ${JSON.stringify(o.record)} is neither "run" nor "example"`);
  });
  if (problems.length) throw new Error(problems.join('\n'));
  return { runs };
}

const selected = (mask: readonly number[]) => mask.flatMap((v, i) => (v === 1 ? [i] : []));

/** A ProbAfterMasking that answers from the exported readouts only (a missing set is an error naming it). */
function lookup(row: ExampleRow): ProbAfterMasking {
  const mp = row.maskedProbs ?? {};
  for (const key of Object.keys(mp)) parsePositionsKey(key);
  return async (positions) => {
    const key = positionsKey(positions);
    const p = mp[key];
    if (typeof p !== 'number') throw new Error(`example ${row.externalId}: no masked readout for positions "${key}"`);
    return p;
  };
}

interface Faith {
  p0: number;
  sets: Record<string, number>;
  comprehensiveness: Record<string, number>;
  sufficiency: Record<string, number>;
  aopcComprehensiveness: Record<string, number>;
  aopcSufficiency: Record<string, number>;
}

/**
 * Recomputes an example's faithfulness record and checks its occlusion relevance, from the exported
 * readouts; returns the recomputed record and the differences from the exported one.
 */
export async function recomputeFaithfulness(row: ExampleRow): Promise<{ faithfulness: Faith | null; problems: string[]; asExported?: boolean }> {
  const problems: string[] = [];
  const where = `run ${row.runId} example ${row.externalId}`;
  // an imported run comes with no readouts (the published files hold the probabilities only)
  if (row.maskedProbs === null) return { faithfulness: (row.faithfulness as Faith | null) ?? null, problems, asExported: row.faithfulness !== null };
  const tokens = row.tokens ?? [];
  const textPos = tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
  const probAfter = lookup(row);
  const occ = row.relevance.occlusion;
  if (occ && row.answerProb !== null) {
    for (const p of textPos) {
      const want = Math.fround(row.answerProb - (await probAfter([p])));
      if (occ.values[p] !== want) problems.push(`${where}: occlusion relevance at token ${p} is ${occ.values[p]}, the readouts give ${want}`);
    }
  }
  const f = row.faithfulness as Partial<Faith> | null;
  if (!f || typeof f.p0 !== 'number') return { faithfulness: null, problems };
  const p0 = await probAfter([]);
  const out: Faith = { p0, sets: {}, comprehensiveness: {}, sufficiency: {}, aopcComprehensiveness: {}, aopcSufficiency: {} };
  const maskOf = (name: string): number[] | null => {
    const m = row.masks?.[`${name}/token`];
    return m ?? null;
  };
  for (const name of Object.keys(f.sets ?? {})) {
    const positions = name === 'whole-text' ? textPos : selected(maskOf(name) ?? []);
    if (name !== 'whole-text' && !maskOf(name)) problems.push(`${where}: set "${name}" has no token mask`);
    out.sets[name] = await probAfter(positions);
  }
  for (const name of Object.keys(f.comprehensiveness ?? {})) {
    const m = maskOf(name);
    if (m) out.comprehensiveness[name] = await comprehensiveness(m, probAfter, p0);
    else problems.push(`${where}: comprehensiveness of "${name}" has no token mask`);
  }
  for (const name of Object.keys(f.sufficiency ?? {})) {
    const m = maskOf(name);
    if (m) out.sufficiency[name] = await sufficiency(m, textPos, probAfter, p0);
    else problems.push(`${where}: sufficiency of "${name}" has no token mask`);
  }
  for (const [kind, key] of [['comprehensiveness', 'aopcComprehensiveness'], ['sufficiency', 'aopcSufficiency']] as const) {
    for (const method of Object.keys(f[key] ?? {})) {
      const rel = row.relevance[method];
      if (rel) out[key][method] = (await aopc(kind, rel.values, textPos, probAfter, { p0 })).aopc;
      else problems.push(`${where}: AOPC ${kind} of "${method}" has no relevance`);
    }
  }
  for (const k of ['p0', 'sets', 'comprehensiveness', 'sufficiency', 'aopcComprehensiveness', 'aopcSufficiency'] as const) {
    if (JSON.stringify(out[k]) !== JSON.stringify(f[k] ?? (k === 'p0' ? undefined : {}))) {
      problems.push(`${where}: faithfulness ${k} recomputes to ${JSON.stringify(out[k])}, the export says ${JSON.stringify(f[k])}`);
    }
  }
  return { faithfulness: out, problems };
}

/**
 * Recomputes an example's k-greedy flipping curves (rawOutputs.flipping) from its readouts and exported
 * relevance, with the exported k and methods; null when it has none or no readouts (imported: as exported).
 */
export async function recomputeFlipping(row: ExampleRow): Promise<{ flipping: StoredFlipping | null; problems: string[] }> {
  const f = (row.rawOutputs?.flipping ?? null) as StoredFlipping | null;
  if (!f || row.maskedProbs === null) return { flipping: f, problems: [] };
  const where = `run ${row.runId} example ${row.externalId}`;
  const textPos = (row.tokens ?? []).flatMap((t, i) => (t.segment === 'text' ? [i] : []));
  const methods = Object.keys(f.curves);
  const missing = methods.filter((m) => !row.relevance[m]);
  if (missing.length) return { flipping: null, problems: [`${where}: flipping curve of ${missing.join(', ')} has no relevance`] };
  const out = await flippingOfRelevances(methods.map((m) => ({ method: m, values: row.relevance[m].values })), textPos, f.k, lookup(row));
  const problems = JSON.stringify(out) === JSON.stringify(f) ? [] : [`${where}: flipping recomputes to ${JSON.stringify(out)}, the export says ${JSON.stringify(f)}`];
  return { flipping: out, problems };
}

/** A result record as the store would give it, rebuilt from an exported row (faithfulness replaced). */
function recordOf(row: ExampleRow, faithfulness: Faith | null, id: number): ResultRecord {
  return {
    id,
    runId: row.runId,
    exampleId: row.exampleId,
    rawOutputs: { ...row.rawOutputs, ...(faithfulness ? { faithfulness } : {}), ...(row.maskedProbs ? { maskedProbs: row.maskedProbs } : {}) },
    label: row.prediction,
    correct: row.correct,
    answerToken: row.answerToken,
    answerProb: row.answerProb,
    optionProbs: row.optionProbs,
    selfExplanation: row.selfExplanation,
    alignment: row.alignment,
    tokens: row.tokens,
    masks: row.masks,
    skippedReason: row.skippedReason,
    createdAt: '',
    relevance: Object.entries(row.relevance).map(([method, r]) => ({ method, values: Float32Array.from(r.values), explainedValue: r.explainedValue, meta: r.meta })),
  };
}

const metricKey = (m: { scope: Record<string, unknown>; name: string }) =>
  `${m.name} ${JSON.stringify(Object.fromEntries(Object.entries(m.scope).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))}`;

/** Differences between stored and recomputed metrics (missing on either side, n, value, interval). */
export function compareMetrics(stored: RunLine['metrics'], recomputed: MetricInput[], tolerance: number): string[] {
  const out: string[] = [];
  const got = new Map(recomputed.map((m) => [metricKey(m), m]));
  const seen = new Set<string>();
  for (const s of stored) {
    const k = metricKey(s);
    seen.add(k);
    const r = got.get(k);
    if (!r) {
      out.push(`${k}: stored, not recomputed`);
      continue;
    }
    if ((s.n ?? null) !== (r.n ?? null)) out.push(`${k}: n ${s.n} stored, ${r.n} recomputed`);
    for (const [field, a, b] of [['value', s.value, r.value], ['ci low', s.ciLow, r.ciLow ?? null], ['ci high', s.ciHigh, r.ciHigh ?? null]] as const) {
      if (a === null || b === null ? a !== b : !(Math.abs(a - b) <= tolerance)) out.push(`${k}: ${field} ${a} stored, ${b} recomputed`);
    }
  }
  for (const [k] of got) if (!seen.has(k)) out.push(`${k}: recomputed, not stored`);
  return out;
}

export interface RunCheck {
  runId: number;
  examples: number;
  /** Stored metric rows compared. */
  metrics: number;
  /** Masked readouts the faithfulness values were recomputed from. */
  readouts: number;
  /** Examples whose faithfulness values were taken as exported (an imported run has no readouts). */
  faithfulnessAsExported: number;
  problems: string[];
}

/** Recomputes every metric of every run in the export and lists what does not agree. */
export async function checkExport(text: string, opts: { tolerance?: number; file?: string } = {}): Promise<RunCheck[]> {
  const tolerance = opts.tolerance ?? 1e-12;
  const out: RunCheck[] = [];
  for (const { run, examples } of parseExport(text, opts.file).runs) {
    const problems: string[] = [];
    const records: ResultRecord[] = [];
    const exMap = new Map<number, StoredExample>();
    let readouts = 0;
    let asExported = 0;
    for (const [i, row] of examples.entries()) {
      const r: Awaited<ReturnType<typeof recomputeFaithfulness>> = await recomputeFaithfulness(row).catch((e: Error) => ({ faithfulness: null, problems: [e.message] }));
      problems.push(...r.problems);
      if (r.asExported) asExported++;
      readouts += Object.keys(row.maskedProbs ?? {}).length;
      const fl = await recomputeFlipping(row).catch((e: Error) => ({ flipping: null, problems: [e.message] }));
      problems.push(...fl.problems);
      const rec = recordOf(row, r.faithfulness, i + 1);
      if (fl.flipping) rec.rawOutputs.flipping = fl.flipping;
      else delete rec.rawOutputs.flipping;
      records.push(rec);
      exMap.set(row.exampleId, { id: row.exampleId, language: row.language } as StoredExample);
    }
    problems.push(...compareMetrics(run.metrics, runMetrics(records, exMap, run.context), tolerance));
    out.push({ runId: run.runId, examples: examples.length, metrics: run.metrics.length, readouts, faithfulnessAsExported: asExported, problems });
  }
  return out;
}
