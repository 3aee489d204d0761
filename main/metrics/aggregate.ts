/**
 * Aggregation of per-example metric values into groups (model x seed x language x indicator),
 * with bootstrap intervals and counts of skipped examples by reason.
 */
import { bootstrapMeanCI, hashSeed, type MeanCI } from './bootstrap';

/** Why an example has no metric values. Free-form strings are allowed for importer-specific reasons. */
export type SkipReason =
  | 'invalid-answer'
  | 'wrong-answer'
  | 'context-overflow'
  | 'unmatched-self-explanation'
  | 'unparsable-self-explanation'
  | (string & {});

export interface GroupKey {
  model: string;
  seed: string;
  language: string;
  /** RaFoLa indicator, or '' for single-task datasets. */
  indicator: string;
}

export interface ExampleMetrics extends Partial<GroupKey> {
  exampleId: string;
  /** Metric name -> value. NaN or null means "undefined for this example" (e.g. kappa of two empty masks). */
  metrics: Record<string, number | null>;
  /** Set when the example was skipped; its metrics are then ignored. */
  skipped?: SkipReason;
}

export interface MetricSummary extends MeanCI {
  /** Examples (not skipped) whose value for this metric was undefined (NaN/null) and left out of the mean. */
  undefinedCount: number;
}

export interface GroupSummary {
  key: GroupKey;
  /** Examples in the group, skipped ones included. */
  total: number;
  /** Examples that contributed metric values. */
  evaluated: number;
  skipped: Record<string, number>;
  metrics: Record<string, MetricSummary>;
}

export interface AggregateOptions {
  B?: number;
  /** Base seed; each group and metric gets its own seed derived from it and the group key. */
  seed?: number;
  level?: number;
}

export function groupKeyString(k: GroupKey): string {
  return JSON.stringify([k.model, k.seed, k.language, k.indicator]);
}

/** Groups records, then for each group and metric: mean + bootstrap CI over defined values. Groups sorted by key. */
export function aggregate(records: readonly ExampleMetrics[], opts: AggregateOptions = {}): GroupSummary[] {
  const groups = new Map<string, { key: GroupKey; recs: ExampleMetrics[] }>();
  for (const r of records) {
    const key: GroupKey = {
      model: r.model ?? '',
      seed: String(r.seed ?? ''),
      language: r.language ?? '',
      indicator: r.indicator ?? '',
    };
    const ks = groupKeyString(key);
    const g = groups.get(ks) ?? { key, recs: [] };
    g.recs.push(r);
    groups.set(ks, g);
  }
  const out: GroupSummary[] = [];
  for (const ks of [...groups.keys()].sort()) {
    const { key, recs } = groups.get(ks)!;
    const skipped: Record<string, number> = {};
    const values = new Map<string, number[]>();
    const undef = new Map<string, number>();
    let evaluated = 0;
    for (const r of recs) {
      if (r.skipped) {
        skipped[r.skipped] = (skipped[r.skipped] ?? 0) + 1;
        continue;
      }
      evaluated++;
      for (const [name, v] of Object.entries(r.metrics)) {
        if (!values.has(name)) values.set(name, []);
        if (v === null || Number.isNaN(v)) undef.set(name, (undef.get(name) ?? 0) + 1);
        else values.get(name)!.push(v);
      }
    }
    const metrics: Record<string, MetricSummary> = {};
    for (const name of [...values.keys()].sort()) {
      const ci = bootstrapMeanCI(values.get(name)!, { B: opts.B, level: opts.level, seed: hashSeed(ks + name, opts.seed ?? 0) });
      metrics[name] = { ...ci, undefinedCount: undef.get(name) ?? 0 };
    }
    out.push({ key, total: recs.length, evaluated, skipped, metrics });
  }
  return out;
}
