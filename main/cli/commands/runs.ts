import { describeHolder } from '../../store/index';
import { parseFlags, withStore, type CliContext } from '../context';

export const summary = 'list the runs with their status and progress (an interrupted run says how to resume it)';
export const usage = 'runs [--study ID]';

/**
 * Statuses come from the store: 'interrupted' is a run left running by a process that is gone (killed,
 * crashed, machine restarted; see main/store/leases.ts), shown with the command that resumes it. A run that
 * is running says which process runs it and since when.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseFlags(args, { study: 'integer' });
  const rows = await withStore(ctx, (store) =>
    store.runs.list(flags.study !== undefined ? { studyId: flags.study as number } : {}).map((r) => {
      const study = store.studies.get(r.studyId);
      const lease = r.status === 'running' ? store.runs.lease(r.id) : undefined;
      const note =
        r.status === 'interrupted' || r.status === 'stopped' || r.status === 'paused'
          ? `resume: run <study.json | ${study?.name ?? `study ${r.studyId}`}> --resume`
          : lease?.live
            ? `by ${describeHolder(lease)}`
            : r.error ?? '';
      return { run: r, study: study?.name ?? null, note, heldBy: lease?.live ? { pid: lease.pid, host: lease.host, since: lease.acquiredAt, heartbeatAt: lease.heartbeatAt } : null };
    }),
  );
  if (ctx.json) {
    ctx.out(JSON.stringify(rows.map((x) => ({ ...x.run, study: x.study, heldBy: x.heldBy, note: x.note || null }))));
    return 0;
  }
  if (rows.length === 0) {
    ctx.out(`no runs in ${ctx.dbPath} (start one with: run <study>)`);
    return 0;
  }
  const table = [['id', 'study', 'seed', 'status', 'progress', 'note']];
  for (const { run: r, study, note } of rows) {
    const status = r.status === 'interrupted' ? 'interrupted — resume' : r.status;
    table.push([String(r.id), study ?? String(r.studyId), String(r.seed), status, `${r.progress.done}/${r.progress.total}`, note]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  for (const r of table) ctx.out(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  return 0;
}
