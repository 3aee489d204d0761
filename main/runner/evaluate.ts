/**
 * Metrics of a run, computed from what is stored (so `metrics <runId>` can recompute them at any time,
 * and imported runs get the same treatment as runs made here).
 *
 * The stored result layout this reads (written by the runner's example pipeline and by import-run):
 *   - masks["<source>/word"] and masks["<source>/token"]: 0/1 masks; sources are human, self, lrp-cp,
 *     lrp-attn, lrp-contrast, occlusion, random. Word masks are over the example's whitespace words;
 *     token masks are over `tokens` (the whole prompt), non-text tokens always 0.
 *   - relevance[method]: continuous scores over `tokens` (method = lrp-cp | lrp-attn | lrp-contrast |
 *     occlusion | random), for AUPRC and where relevance lands.
 *   - rawOutputs.faithfulness: { p0, sets: {name: p after masking}, comprehensiveness: {name: v},
 *     sufficiency: {name: v}, aopcComprehensiveness: {name: v}, aopcSufficiency: {name: v} }.
 *   - skippedReason: every example not evaluated, with the reason; `label`/`correct` are kept for
 *     wrong answers so accuracy counts them.
 */
import {
  aggregate,
  averagePrecision,
  bootstrapMeanCI,
  hashSeed,
  iouF1,
  maskAgreement,
  relevanceShare,
  type ExampleMetrics,
} from '../metrics';
import type { MetricInput, ResultRecord, StoredExample } from '../store';

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

/** Per-example metric values; metric keys are "<level>:<pair>:<metric>" and "<kind>:<set>". */
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
      m[`${key}:iou-f1`] = iouF1(ga, pb, positions).f1;
    }
  }
  const humanTok = masks['human/token'];
  for (const rel of r.relevance) {
    const values = Array.from(rel.values);
    if (values.length !== tokens.length || values.some((v) => !Number.isFinite(v))) continue;
    if (humanTok && humanTok.length === values.length && textPos.length) {
      m[`token:auprc:${rel.method}`] = averagePrecision(humanTok, values, textPos);
    }
    if ((CONTINUOUS as readonly string[]).includes(rel.method) && rel.method.startsWith('lrp')) {
      const shares = relevanceShare(values, tokens.map((t) => t.segment));
      for (const [seg, s] of Object.entries(shares)) m[`share:${rel.method}:${seg}`] = Number.isFinite(s.abs) ? s.abs : null;
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
  void ex;
  return m;
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
    if (parts[1] === 'auprc') return { scope: { level: 'token', method: parts[2] }, name: 'auprc' };
    return { scope: { level: parts[0], pair: parts[1] }, name: parts[2] };
  }
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
    const [g] = aggregate(recs, { B: opts.B, seed });
    if (!g) continue;
    out.push({ scope: scopeBase, name: 'evaluated', value: g.evaluated, n: g.evaluated });
    for (const [key, s] of Object.entries(g.metrics)) {
      const { scope, name } = keyToScope(key);
      const defined = s.n > 0;
      out.push({
        scope: { ...scopeBase, ...scope },
        name,
        value: defined ? s.mean : null,
        ciLow: defined ? s.lo : null,
        ciHigh: defined ? s.hi : null,
        n: s.n,
      });
    }
  }
  return out;
}
