import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';
import type { StoredExample } from '../../store/index';

export const summary = 'show the examples of a dataset: examples <datasetId> [--limit N] [--offset N]';
export const usage = 'examples <datasetId> [--limit N] [--offset N]';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { limit: 'integer', offset: 'integer' });
  if (positional.length !== 1 || !/^\d+$/.test(positional[0])) throw new CliUsageError(`expected a dataset id (usage: ${usage})`);
  const id = Number(positional[0]);
  const limit = (flags.limit as number | undefined) ?? (ctx.json ? -1 : 20);
  const offset = (flags.offset as number | undefined) ?? 0;
  const { dataset, examples } = await withStore(ctx, (store) => {
    const dataset = store.datasets.get(id);
    if (!dataset) throw new Error(`no dataset with id ${id} in ${ctx.dbPath} (see: datasets)`);
    return { dataset, examples: store.datasets.examples(id, { offset, limit }) };
  });
  if (ctx.json) {
    ctx.out(JSON.stringify(examples));
    return 0;
  }
  ctx.out(`dataset ${dataset.id} "${dataset.name}": ${dataset.exampleCount} examples; [brackets] mark human rationale words`);
  for (const e of examples) ctx.out(describeExample(e));
  const shown = offset + examples.length;
  if (shown < dataset.exampleCount) ctx.out(`... ${dataset.exampleCount - shown} more (use --offset ${shown} or --limit N)`);
  return 0;
}

/** One line: id, labels, language, and the text with rationale words in [brackets]. */
export function describeExample(e: StoredExample): string {
  const marked = e.words.map((w, i) => (e.rationaleMask?.[i] === 1 ? `[${w.text}]` : w.text)).join(' ');
  const labels = e.labels.length > 0 ? e.labels.join('|') : '-';
  return `${e.externalId}\t${e.language}\t${labels}\t${marked}`;
}
