import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelSession } from '../../models/session';
import { chatTemplateOf, loadIndicators, runExample, type ClassifyMode, type TaskSpec } from '../../protocol/index';
import { CliUsageError, parseFlags, type CliContext } from '../context';

export const summary = 'classify one text with a GGUF model (turn 1), optionally ask for a self-explanation (turn 2)';
export const usage =
  'predict --model FILE --task sentiment|forced-labour|claim --text TEXT [--language en|da|it] [--mode paper|constrained|scoring] [--seed N] [--explain K|free] [--extractive] [--shape paper-list|object] [--indicator N] [--definitions FILE] [--claim TEXT] [--template FILE] [--context N] [--threads N] [--gpu] [--json]';

const MODES = ['paper', 'constrained', 'scoring'];

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseFlags(args, {
    model: 'string', task: 'string', language: 'string', text: 'string', mode: 'string', seed: 'integer', explain: 'string',
    extractive: 'boolean', shape: 'string', indicator: 'integer', definitions: 'string', claim: 'string', template: 'string',
    context: 'integer', threads: 'integer', gpu: 'boolean', 'max-new-tokens': 'integer',
  });
  const modelPath = flags.model as string | undefined;
  const text = flags.text as string | undefined;
  if (!modelPath) throw new CliUsageError(`--model is required; usage: ${usage}`);
  if (text === undefined) throw new CliUsageError(`--text is required; usage: ${usage}`);
  const mode = (flags.mode as string | undefined) ?? 'paper';
  if (!MODES.includes(mode)) throw new CliUsageError(`--mode must be one of ${MODES.join(', ')}, got "${mode}"`);
  const task = taskSpec(flags);
  let explainK: number | null | undefined;
  if (flags.explain !== undefined) {
    if (flags.explain === 'free') explainK = null;
    else if (/^\d+$/.test(String(flags.explain)) && Number(flags.explain) > 0) explainK = Number(flags.explain);
    else throw new CliUsageError(`--explain takes a positive whole number or "free", got "${flags.explain}"`);
  }
  const shape = (flags.shape as string | undefined) ?? 'paper-list';
  if (shape !== 'paper-list' && shape !== 'object') throw new CliUsageError(`--shape must be paper-list or object`);

  const session = new ModelSession({
    gpu: flags.gpu ? 'auto' : false,
    threads: flags.threads as number | undefined,
    contextSize: (flags.context as number | undefined) ?? 4096,
    idleReleaseMs: 0,
  });
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const out = await session.use(path.resolve(modelPath), async (m) => {
      const template = chatTemplateOf(m.model, flags.template ? readFileSync(flags.template as string, 'utf8') : undefined);
      const rt = { llama: m.llama, model: m.model, sequence: m.sequence, template };
      return runExample(rt, { text }, {
        task,
        mode: mode as ClassifyMode,
        sampling: { seed: (flags.seed as number | undefined) ?? 28, temperature: 0.6, topP: 0.9 },
        maxNewTokens: (flags['max-new-tokens'] as number | undefined) ?? 100,
        explain: explainK === undefined ? false : { k: explainK, shape, extractive: !!flags.extractive },
        signal: controller.signal,
      });
    }, { signal: controller.signal });
    const c = out.classification;
    const ex = out.explanation;
    const json = {
      label: c.status === 'ok' ? c.label : c.status,
      status: c.status,
      reason: c.reason ?? null,
      response: c.responseText,
      answerToken: c.answer ? { id: c.answer.id, text: c.answer.text } : null,
      answerProb: c.answer?.prob ?? null,
      optionProbs: c.optionProbs,
      selfExplanation: ex
        ? {
            status: ex.result.status,
            raw: ex.result.raw,
            items: ex.alignment.items,
            matched: ex.alignment.matched.map(({ text: t, start, end }) => ({ text: t, start, end })),
            unmatched: ex.alignment.unmatched,
          }
        : null,
      selfExplanationSkipped: out.explanationSkipped ?? null,
      tokens: out.tokens,
    };
    if (ctx.json) ctx.out(JSON.stringify(json));
    else {
      ctx.out(`label: ${json.label}${c.reason ? ` (${c.reason})` : ''}`);
      if (c.answer) ctx.out(`answer token: ${JSON.stringify(c.answer.text)} p=${c.answer.prob.toFixed(4)}`);
      ctx.out(`option probabilities: ${Object.entries(c.optionProbs).map(([k, v]) => `${k}=${v === null ? 'n/a' : v.toFixed(4)}`).join(' ')}`);
      if (ex) ctx.out(`self-explanation: ${JSON.stringify(ex.alignment.items)}; matched ${ex.alignment.matched.length}, unmatched ${ex.alignment.unmatched.length}`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await session.release();
  }
}

function taskSpec(flags: Record<string, string | boolean | number | undefined>): TaskSpec {
  const task = (flags.task as string | undefined) ?? 'sentiment';
  const language = (flags.language as string | undefined) ?? 'en';
  if (task === 'sentiment') {
    if (!['en', 'da', 'it'].includes(language)) throw new CliUsageError(`--language must be en, da or it, got "${language}"`);
    return { task, language: language as 'en' | 'da' | 'it' };
  }
  if (task === 'forced-labour') {
    const n = flags.indicator as number | undefined;
    if (!n) throw new CliUsageError('--task forced-labour needs --indicator N (1-11)');
    const defs = loadIndicators((flags.definitions as string | undefined) ?? path.resolve('../shared/data/rafola/definitions.json'));
    const indicator = defs.find((d) => d.number === n);
    if (!indicator) throw new CliUsageError(`--indicator must be 1-${defs.length}, got ${n}`);
    return { task, indicator };
  }
  if (task === 'claim') {
    if (typeof flags.claim !== 'string') throw new CliUsageError('--task claim needs --claim TEXT (the evidence goes in --text)');
    return { task, claim: flags.claim };
  }
  throw new CliUsageError(`--task must be sentiment, forced-labour or claim, got "${task}"`);
}
