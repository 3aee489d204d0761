import { computeRunMetrics } from '../../metrics/run-metrics';
import { pooledByModel } from '../../metrics/run-metrics';
import { parseFlags, withStore, type CliContext } from '../context';
import { fmtEstimate } from '../../reports/format';
import { parseRunIds } from './report';

export const summary = 'print (or recompute) a run’s metrics: means with bootstrap 95 % intervals, skip counts, and its model’s figures pooled over seeds';
export const usage = 'metrics <runId> [--recompute] [--json]';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { recompute: 'boolean' });
  const [runId] = parseRunIds(positional[0]);
  return withStore(ctx, (store) => {
    const r = store.runs.get(runId);
    if (!r) throw new Error(`run ${runId} does not exist`);
    if (flags.recompute || store.metrics.list(runId).length === 0) computeRunMetrics(store, runId);
    const ms = store.metrics.list(runId);
    // the same model's runs of this study with other seeds: figures pooled over all of them (with this run)
    const siblings = store.runs.list().filter((x) => x.studyId === r.studyId && x.modelId === r.modelId);
    const pooled = pooledByModel(store, siblings.map((run) => ({ run })));
    if (ctx.json) {
      ctx.out(
        JSON.stringify({
          run: { id: r.id, status: r.status, seed: r.seed, progress: r.progress },
          metrics: ms.map(({ scope, name, value, ciLow, ciHigh, n }) => ({ scope, name, value, ciLow, ciHigh, n })),
          pooled: pooled.map(({ model, indicator, runIds, seeds, rows }) => ({
            model,
            ...(indicator ? { indicator } : {}),
            runIds,
            seeds,
            metrics: rows.map(({ scope, name, value, ciLow, ciHigh, n }) => ({ scope, name, value, ciLow: ciLow ?? null, ciHigh: ciHigh ?? null, n: n ?? null })),
          })),
        }),
      );
    } else {
      for (const m of ms) ctx.out(`${m.name}\t${JSON.stringify(m.scope)}\t${fmtEstimate({ value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh }, 4)}\tn=${m.n ?? ''}`);
      for (const p of pooled) {
        ctx.out(`pooled over seeds ${p.seeds.join(', ')} (runs ${p.runIds.join(', ')}): interval resamples examples, n = examples`);
        for (const m of p.rows) ctx.out(`${m.name}\t${JSON.stringify(m.scope)}\t${fmtEstimate({ value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh }, 4)}\tn=${m.n ?? ''}`);
      }
    }
    return 0;
  });
}
