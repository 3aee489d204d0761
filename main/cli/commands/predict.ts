import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StudyConfig } from '../../config/study-schema';
import { ModelSession } from '../../models/session';
import { modelChatTemplate } from '../../protocol/template-families';
import { checkThreads } from '../../models/session-threads';
import { chatTemplateOf, runExample, type ClassifyMode, type PromptTemplates, type TaskSpec } from '../../protocol/index';
import { builtinDefinitions, DEFAULT_DEFINITIONS, readDefinitionsFile } from '../../protocol/indicator-definitions';
import { ILO_LIST, iloIndicator, indicatorNamed } from '../../protocol/indicators';
import { resolveStudies, studyConfigOf } from '../../studies/builtins';
import { taskFor } from '../../protocol/task';
import { indicatorDefinitionsFor, modelPathFor } from '../../runner';
import type { StoredExample } from '../../store';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'classify one text with a GGUF model (turn 1), optionally ask for a self-explanation (turn 2)';
export const usage =
  'predict --model FILE --task sentiment|forced-labour|claim --text TEXT [--language en|da|it] [--mode paper|constrained|scoring] [--seed N] [--explain K|free] [--extractive] [--shape paper-list|object] [--indicator N|NAME] [--definitions FILE] [--claim TEXT] [--template FILE] [--context N] [--threads N] [--gpu] [--json]\n' +
  '       predict --study <study.json | built-in name> --text TEXT [--model FILE] [--claim TEXT] [--definitions FILE] [--mode ...] [--seed N] [--explain K|free] ... ' +
  '(the study gives the task, labels, language, prompt templates and indicator definitions; its model, mode, first seed and limits unless given)';

const MODES = ['paper', 'constrained', 'scoring'];

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseFlags(args, {
    model: 'string', task: 'string', language: 'string', text: 'string', mode: 'string', seed: 'integer', explain: 'string',
    extractive: 'boolean', shape: 'string', indicator: 'string', definitions: 'string', claim: 'string', template: 'string',
    context: 'integer', threads: 'integer', gpu: 'boolean', 'max-new-tokens': 'integer', study: 'string',
  });
  const text = flags.text as string | undefined;
  if (text === undefined) throw new CliUsageError(`--text is required; usage: ${usage}`);
  if (!text.trim()) throw new CliUsageError('--text is empty (only white space): give the text to classify');
  if (typeof flags.claim === 'string' && !flags.claim.trim()) throw new CliUsageError('--claim is empty (only white space): give the claim to verify');
  if (flags.threads !== undefined) checkThreads(flags.threads as number, '--threads', (m) => new CliUsageError(m));
  const study = flags.study !== undefined ? await fromStudy(flags, text, ctx) : undefined;
  const modelPath = (flags.model as string | undefined) ?? study?.modelPath;
  if (!modelPath) throw new CliUsageError(`--model is required; usage: ${usage}`);
  const mode = (flags.mode as string | undefined) ?? study?.mode ?? 'paper';
  if (!MODES.includes(mode)) throw new CliUsageError(`--mode must be one of ${MODES.join(', ')}, got "${mode}"`);
  const task = study?.task ?? taskSpec(flags);
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
    threads: (flags.threads as number | undefined) ?? study?.config.limits.threads,
    contextSize: (flags.context as number | undefined) ?? 4096,
    idleReleaseMs: 0,
  });
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const out = await session.use(path.resolve(modelPath), async (m) => {
      // --template wins; else a registered model's template (chosen for it, template-families.ts); else the file's own
      const template = chatTemplateOf(m.model, flags.template ? readFileSync(flags.template as string, 'utf8') : study?.chatTemplate);
      const rt = { llama: m.llama, model: m.model, sequence: m.sequence, template };
      return runExample(rt, { text }, {
        task,
        templates: study?.templates,
        mode: mode as ClassifyMode,
        sampling: { seed: (flags.seed as number | undefined) ?? study?.config.seeds[0] ?? 28, temperature: 0.6, topP: 0.9 },
        maxNewTokens: (flags['max-new-tokens'] as number | undefined) ?? study?.config.limits.maxNewTokens ?? 100,
        selfExplanation: explainK === undefined ? false : { k: explainK, shape, extractive: !!flags.extractive || !!study?.config.selfExplanation.extractive },
        matching: study?.config.selfExplanation.matching,
        occurrences: study?.config.selfExplanation.occurrences,
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
            // the rendered turn-2 conversation up to the model's reply (turn 1, its answer, the request)
            prompt: ex.result.chat.full,
            raw: ex.result.raw,
            items: ex.alignment.items,
            matched: ex.alignment.matched.map(({ text: t, start, end }) => ({ text: t, start, end })),
            unmatched: ex.alignment.unmatched,
          }
        : null,
      selfExplanationSkipped: out.explanationSkipped ?? null,
      // the rendered turn-1 prompt (chat template included): token texts are slices of it, in order
      prompt: out.tokens.map((t) => t.text).join(''),
      // the template's thinking switch as rendered: 'off' (Qwen 3: the study asks for a direct answer), null: none
      thinking: out.thinking,
      study: study ? { name: study.name, file: study.file } : null,
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

interface StudyChoice {
  name: string;
  file: string;
  config: StudyConfig;
  task: TaskSpec;
  templates?: PromptTemplates;
  /** The study's model when it has exactly one (else --model is required). */
  modelPath?: string;
  /** The study's answer mode when all its models share one. */
  mode?: string;
  /** The chat template of the study's registered model (chosen for it on the Models screen, or its own). */
  chatTemplate?: string;
}

/**
 * --study: the task the runner would give this text (protocol/task.ts taskFor: labels, language,
 * indicator with its definitions, claim) and the study's prompt templates, so the prompt is the study's.
 * Flags that would contradict the study (--task, --language, --indicator) are refused.
 */
async function fromStudy(flags: Record<string, string | boolean | number | undefined>, text: string, ctx: CliContext): Promise<StudyChoice> {
  for (const f of ['task', 'language', 'indicator'] as const) {
    if (flags[f] !== undefined) throw new CliUsageError(`--${f} cannot be combined with --study: the study sets the task, its language and indicator`);
  }
  const ref = flags.study as string;
  const studies = resolveStudies(ref);
  if (studies.length !== 1) {
    throw new CliUsageError(`--study ${ref} names ${studies.length} studies (${studies.map((s) => s.name).join(', ')}); give one of them`);
  }
  const s = studies[0];
  const config = studyConfigOf(s);
  const kind = config.task.kind;
  if (kind === 'claim-verification' && typeof flags.claim !== 'string') {
    throw new CliUsageError(`study ${s.name} is a claim-verification study: give the claim with --claim TEXT (the evidence goes in --text)`);
  }
  if (kind !== 'claim-verification' && flags.claim !== undefined) throw new CliUsageError(`--claim is only for claim-verification studies; ${s.name} is ${kind}`);
  if (kind !== 'forced-labour' && flags.definitions !== undefined) throw new CliUsageError(`--definitions is only for forced-labour studies; ${s.name} is ${kind}`);
  // --definitions wins over the study's task.definitions, as in `run`
  const defs = indicatorDefinitionsFor(config, definitionsFlag(flags));
  const example = {
    id: 0, datasetId: 0, ordinal: 0, externalId: 'predict', text, language: config.language, labels: [], words: [], rationaleMask: null,
    rationaleSpans: [], meta: kind === 'claim-verification' ? { claim: flags.claim } : {},
  } satisfies StoredExample;
  const { spec } = taskFor(config, example, defs?.indicators);
  const modes = [...new Set(config.models.map((m) => m.mode))];
  let modelPath: string | undefined;
  let chatTemplate: string | undefined;
  if (flags.model === undefined) {
    if (config.models.length !== 1) {
      throw new CliUsageError(`study ${s.name} has ${config.models.length} models (${config.models.map((m) => m.path ?? `id ${m.id}`).join(', ')}); choose one with --model FILE`);
    }
    const m = config.models[0];
    if (m.path) modelPath = await modelPathFor(m.path);
    else {
      const rec = await withStore(ctx, (store) => store.models.get(m.id!));
      if (!rec) throw new Error(`study ${s.name}: model ${m.id} is not registered in ${ctx.dbPath}`);
      modelPath = rec.path;
      chatTemplate = modelChatTemplate(rec) ?? undefined;
    }
  }
  return { name: s.name, file: s.file, config, task: spec, templates: config.prompts, modelPath, mode: modes.length === 1 ? modes[0] : undefined, ...(chatTemplate ? { chatTemplate } : {}) };
}

function taskSpec(flags: Record<string, string | boolean | number | undefined>): TaskSpec {
  const task = (flags.task as string | undefined) ?? 'sentiment';
  const language = (flags.language as string | undefined) ?? 'en';
  if (task === 'sentiment') {
    if (!['en', 'da', 'it'].includes(language)) throw new CliUsageError(`--language must be en, da or it, got "${language}"`);
    return { task, language: language as 'en' | 'da' | 'it' };
  }
  if (task === 'forced-labour') {
    const given = flags.indicator as string | undefined;
    if (given === undefined) throw new CliUsageError(`--task forced-labour needs --indicator N or NAME (ILO: ${ILO_LIST})`);
    const name = /^\d+$/.test(given) ? iloIndicator(Number(given)) : indicatorNamed(given);
    if (!name) throw new CliUsageError(`--indicator must be an ILO indicator number 1-11 or name (${ILO_LIST}), got "${given}"`);
    // the same definitions a study uses when it names none (the GUI's preview too): one source
    const defs = definitionsFlag(flags) ?? builtinDefinitions(DEFAULT_DEFINITIONS)!;
    return { task, indicator: defs.indicators.find((d) => d.label === name)! };
  }
  if (task === 'claim') {
    if (typeof flags.claim !== 'string') throw new CliUsageError('--task claim needs --claim TEXT (the evidence goes in --text)');
    return { task, claim: flags.claim };
  }
  throw new CliUsageError(`--task must be sentiment, forced-labour or claim, got "${task}"`);
}

/** --definitions FILE, read with the one definitions loader (undefined without the flag). */
function definitionsFlag(flags: Record<string, string | boolean | number | undefined>) {
  const f = flags.definitions as string | undefined;
  return f === undefined ? undefined : readDefinitionsFile(path.resolve(f), f);
}
