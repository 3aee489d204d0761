import { importJsonlRun } from '../../importers/jsonl';
import { importPaperRunWithTokens, type MatchingRule } from '../../importers/paper';
import { finalizeRun } from '../../runner';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'import per-example results produced elsewhere as a run of a study (--format jsonl|paper)';
export const usage =
  'import-run <file | paper run folder> --format paper|jsonl --study <id> [--rule paper|robust] [--tokenizer <gguf> | NAME | none] [--model NAME] [--seed N] [--language xx] [--model-sha256 HEX]';

/**
 * --format paper: the published study's files (../shared/data/paper-responses/sst/<model>/oracle/<seed>/),
 * scored with --rule paper (the authors' verbatim matching and answer reading) or robust (the workbench's);
 * default: the study's selfExplanation.matching. Either way an answer the workbench cannot parse is invalid
 * (never correct, not scored); the run's notes give the paper's own convention beside it where the figures
 * differ. The files hold token ids only: token text and offsets are
 * decoded with the model's tokenizer where one is proven (automatic: the bundled llama-spm / llama-bpe
 * vocabularies; --tokenizer <gguf> or a bundled name tries that one instead; --tokenizer none skips it).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { format: 'string', study: 'integer', model: 'string', seed: 'integer', language: 'string', 'model-sha256': 'string', rule: 'string', tokenizer: 'string' });
  const file = positional[0];
  if (!file) throw new CliUsageError(`missing file; usage: ${usage}`);
  if (flags.study === undefined) throw new CliUsageError(`--study <id> is required; usage: ${usage}`);
  const format = flags.format ?? 'jsonl';
  if (format !== 'paper' && format !== 'jsonl') throw new CliUsageError(`--format must be paper or jsonl, got "${format}"`);
  if (flags.rule !== undefined && flags.rule !== 'paper' && flags.rule !== 'robust') throw new CliUsageError(`--rule must be paper or robust, got "${flags.rule}"`);
  if (flags.tokenizer !== undefined && format !== 'paper') throw new CliUsageError('--tokenizer applies to --format paper only');
  if (format === 'paper') {
    return withStore(ctx, async (store) => {
      const study = store.studies.get(flags.study as number);
      if (!study) throw new Error(`study ${flags.study} does not exist`);
      const studyRule = (study.config as { selfExplanation?: { matching?: MatchingRule } }).selfExplanation?.matching;
      const rule = (flags.rule as MatchingRule | undefined) ?? studyRule ?? 'robust';
      const r = await importPaperRunWithTokens(store, file, {
        studyId: flags.study as number,
        model: flags.model as string | undefined,
        seed: flags.seed as number | undefined,
        rule,
        tokenizer: flags.tokenizer as string | undefined,
      });
      const t = r.tokens;
      // the run record's JSON keeps how its tokens were decoded (or why not) next to the import's origin
      // the run's notes: the token decoding, then figures under the paper's own convention beside ours (where they differ)
      const notes = [...t.notes, ...r.notes];
      finalizeRun(store, r.runId, { imported: r.file, rule, tokenizer: t.tokenizer, tokenizerPath: t.tokenizerPath, tokensDecoded: t.decoded, tokensWithIds: t.withIds, notes });
      const s = r.summary;
      if (ctx.json) {
        const paperConvention = { accuracy: s.paperConvention.accuracy, correct: s.paperConvention.correct, ...(s.paperConvention.plausibility ?? {}) };
        ctx.out(JSON.stringify({ runId: r.runId, model: r.model, seed: r.seed, rule, examples: s.total, scored: s.n, invalid: s.invalidAnswers, paperConvention, tokenizer: t.tokenizer, tokensDecoded: t.decoded, tokensWithIds: t.withIds, notes }));
      } else {
        ctx.out(`imported run ${r.runId} (${r.model}, seed ${r.seed}, ${rule} rule: ${s.total} examples, ${s.n} scored)`);
        for (const n of notes) ctx.out(`  ${n}`);
      }
      return 0;
    });
  }
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
