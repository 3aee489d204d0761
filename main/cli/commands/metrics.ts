import { computeRunMetrics } from '../../runner/finalize';
import { parseFlags, withStore, type CliContext } from '../context';
import { fmtEstimate } from '../../reports/format';
import { parseRunIds } from './report';

export const summary = 'print (or recompute) a run’s metrics: means with bootstrap 95 % intervals, skip counts';
export const usage = 'metrics <runId> [--recompute] [--json]';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { recompute: 'boolean' });
  const [runId] = parseRunIds(positional[0]);
  return withStore(ctx, (store) => {
    const r = store.runs.get(runId);
    if (!r) throw new Error(`run ${runId} does not exist`);
    if (flags.recompute || store.metrics.list(runId).length === 0) computeRunMetrics(store, runId);
    const ms = store.metrics.list(runId);
    if (ctx.json) {
      ctx.out(JSON.stringify({ run: { id: r.id, status: r.status, seed: r.seed, progress: r.progress }, metrics: ms.map(({ scope, name, value, ciLow, ciHigh, n }) => ({ scope, name, value, ciLow, ciHigh, n })) }));
    } else {
      for (const m of ms) ctx.out(`${m.name}\t${JSON.stringify(m.scope)}\t${fmtEstimate({ value: m.value, ciLow: m.ciLow, ciHigh: m.ciHigh }, 4)}\tn=${m.n ?? ''}`);
    }
    return 0;
  });
}
