import { DATASET_FORMATS, importInto } from '../../datasets/index';
import { importEraser } from '../../importers/eraser';
import type { DatasetFormat } from '../../datasets/types';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'import a dataset file: import <file> --format msst|rafola|climate-fever|csv|jsonl [--language xx] [--name N] [--labels FILE]; import <dir | split.jsonl> --format eraser';
export const usage = 'import <file> --format msst|rafola|climate-fever|csv|jsonl [--language xx] [--name N] [--labels FILE] | import <dir | split.jsonl> --format eraser [--language xx] [--name N]';

/**
 * The whole file is read and validated before the database is opened, and the store inserts the
 * dataset in one transaction: a bad file or a failed insert leaves the database as it was.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { format: 'string', language: 'string', name: 'string', labels: 'string' });
  if (positional.length !== 1) throw new CliUsageError(`expected one file to import (usage: ${usage})`);
  const format = flags.format as string | undefined;
  if (format === undefined) throw new CliUsageError(`missing --format (one of ${DATASET_FORMATS.join(', ')})`);
  if (format !== 'eraser' && !DATASET_FORMATS.includes(format as DatasetFormat)) {
    throw new CliUsageError(`unknown format "${format}" (one of ${DATASET_FORMATS.join(', ')})`);
  }
  const opts = {
    format: format as DatasetFormat,
    language: flags.language as string | undefined,
    name: flags.name as string | undefined,
    labelsFile: flags.labels as string | undefined,
  };
  if (format === 'eraser' && flags.labels !== undefined) throw new CliUsageError('--labels is only for the msst format (ERASER annotations carry their own labels)');
  const record = await withStore(ctx, (store) => {
    const id =
      format === 'eraser'
        ? // a directory: every split in it (train, val, test); one split's file: that split
          store.datasets.insert(importEraser(positional[0], { language: opts.language, name: opts.name }))
        : importInto(positional[0], opts, (meta) => store.datasets.beginImport(meta));
    return store.datasets.get(id)!;
  });
  if (ctx.json) {
    ctx.out(JSON.stringify({ datasetId: record.id, examples: record.exampleCount, withRationale: record.withRationale }));
  } else {
    ctx.out(
      `imported "${record.name}" as dataset ${record.id}: ${record.exampleCount} examples, ${record.withRationale} with a human rationale` +
        ` (${record.format}${record.language ? `, ${record.language}` : ''}) into ${ctx.dbPath}`,
    );
  }
  return 0;
}
