import { parseFlags, withStore, type CliContext } from '../context';

export const summary = 'list the imported datasets';
export const usage = 'datasets';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  parseFlags(args, {});
  const list = await withStore(ctx, (store) => store.datasets.list());
  if (ctx.json) {
    ctx.out(JSON.stringify(list));
    return 0;
  }
  if (list.length === 0) {
    ctx.out(`no datasets in ${ctx.dbPath} (add one with: import <file> --format ...)`);
    return 0;
  }
  const rows = [['id', 'name', 'format', 'language', 'examples', 'rationale', 'labels', 'imported']];
  for (const d of list) {
    rows.push([String(d.id), d.name, d.format, d.language ?? '-', String(d.exampleCount), String(d.withRationale), String(d.labelSet.length), d.createdAt]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) ctx.out(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  return 0;
}
