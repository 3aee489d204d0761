import { importJsonlRun } from '../../importers/jsonl';
import { finalizeRun } from '../../runner/finalize';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'import per-example results produced elsewhere as a run of a study (--format jsonl|paper)';
export const usage = 'import-run <file> --format paper|jsonl --study <id> [--model NAME] [--seed N] [--language xx]';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { format: 'string', study: 'integer', model: 'string', seed: 'integer', language: 'string', 'model-sha256': 'string', rule: 'string' });
  const file = positional[0];
  if (!file) throw new CliUsageError(`missing file; usage: ${usage}`);
  if (flags.study === undefined) throw new CliUsageError(`--study <id> is required; usage: ${usage}`);
  const format = flags.format ?? 'jsonl';
  if (format === 'paper') {
    // The adapter for the published study's files is main/importers/paper (another work item).
    let mod: Record<string, unknown>;
    try {
      // resolved at run time: the adapter lands separately, and this command must load without it
      const url = new URL('../../importers/paper/index.ts', import.meta.url).href;
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`--format paper: the paper adapter (main/importers/paper) is not available: ${(e as Error).message}`);
    }
    const fn = (mod.importPaperRun ?? mod.importPaperResponses) as ((...a: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function') throw new Error('--format paper: main/importers/paper exports no importPaperRun(store, file, opts)');
    return withStore(ctx, async (store) => {
      const r = (await fn(store, file, { studyId: flags.study, model: flags.model, seed: flags.seed, rule: flags.rule })) as { runId: number };
      finalizeRun(store, r.runId, { imported: file });
      ctx.out(ctx.json ? JSON.stringify({ runId: r.runId }) : `imported run ${r.runId}`);
      return 0;
    });
  }
  if (format !== 'jsonl') throw new CliUsageError(`--format must be paper or jsonl, got "${format}"`);
  return withStore(ctx, (store) => {
    const r = importJsonlRun(store, file, {
      studyId: flags.study as number,
      model: flags.model as string | undefined,
      seed: flags.seed as number | undefined,
      language: flags.language as string | undefined,
      modelSha256: flags['model-sha256'] as string | undefined,
    });
    finalizeRun(store, r.runId, { imported: file });
    ctx.out(ctx.json ? JSON.stringify({ runId: r.runId, examples: r.lines.length }) : `imported run ${r.runId} (${r.lines.length} examples)`);
    return 0;
  });
}
