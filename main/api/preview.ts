import { loadVocabOnly } from '../models/session';
import { parseStudyConfig } from '../config/study-schema';
import { importFile } from '../datasets';
import { renderChat } from '../protocol';
import { modelChatTemplate, templateProblem } from '../protocol/template-families';
import { resolveBuiltinDataset } from '../studies/builtins';
import { promptFor } from '../protocol/task';
import { openStore } from '../store';
import type { StoredExample } from '../store/types';
import type { PromptPreview } from './catalogue';
import { ApiError } from './errors';
import type { StudyConfig } from '../config/study-schema';
import type { ChatTurn } from '../protocol/chat';
import { biasedTurn1, biasingHint, counterfactualTurns, otherOption, redactText } from '../protocol/self-consistency';

/**
 * The exact turn-1 prompt the runner will give the model for one example: the runner's own task
 * prompt (promptFor, with the study's prompt templates and indicator definitions), rendered with the
 * model's own chat template and tokenized by its own vocabulary (loaded
 * vocabulary-only, so even a large model previews in a moment). Without a model: the bare prompt.
 */
export async function previewPrompt(a: { dbFile: string; config: unknown; modelId?: number; exampleId?: number }): Promise<PromptPreview> {
  const parsed = parseStudyConfig(a.config);
  if (!parsed.ok) {
    const fields = Object.fromEntries(parsed.errors.map((e) => [e.path, e.message]));
    throw new ApiError('invalid', `the study configuration has problems: ${parsed.errors[0].path}: ${parsed.errors[0].message}`, fields);
  }
  const config = parsed.config;
  const store = openStore(a.dbFile);
  try {
    let ex: StoredExample | undefined;
    if (a.exampleId !== undefined) ex = store.datasets.example(a.exampleId);
    else if (config.dataset.id !== undefined) ex = store.datasets.examples(config.dataset.id, { limit: 1 })[0];
    else {
      const d = resolveBuiltinDataset(config.dataset.builtin!);
      const first = importFile(d.file, { format: d.entry.format, language: d.entry.language, name: d.name }).examples[0];
      if (first) ex = { ...first, id: 0, datasetId: 0, ordinal: 0 };
    }
    if (!ex) throw new ApiError('not_found', 'no example to preview: the dataset is empty or missing', { dataset: 'no example to preview' });
    // the runner's own prompt builder: study templates, custom labels and the indicator definitions the
    // configuration records (task.definitions: built-in or chosen-file text; no path is read here)
    const { prompt, rationale, goldLabel } = promptFor(config, ex);
    const extra = selfConsistencyTurns(config, ex, prompt, rationale, goldLabel.status === 'ok' ? goldLabel.label : null);
    const modelId = a.modelId ?? config.models.find((m) => m.id !== undefined)?.id;
    const model = modelId !== undefined ? store.models.get(modelId) : undefined;
    if (!model) {
      let at = 0;
      const segments = prompt.turn1.map((p) => ({ kind: p.segment as string, start: at, end: (at += p.text.length) }));
      const plain = (turns: ChatTurn[]) => turns.map((t) => (t.role === 'user' ? t.pieces.map((p) => p.text).join('') : t.text)).join('\n\n');
      return {
        prompt: prompt.turn1.map((p) => p.text).join(''),
        segments,
        tokenCount: null,
        note: 'no model chosen: shown without a chat template',
        ...(extra.length ? { selfConsistency: extra.map((x) => ({ test: x.test, prompt: plain(x.turns), note: x.note })) } : {}),
      };
    }
    const m = await loadVocabOnly(model.path);
    try {
      // the template a run of this model renders with: chosen on the Models screen, else the GGUF's own
      const template = modelChatTemplate(model);
      if (template === null) throw new ApiError('invalid', templateProblem(model)!, { models: templateProblem(model)! });
      const chat = renderChat(m, template, [{ role: 'user', pieces: prompt.turn1 }]);
      return {
        prompt: chat.full,
        segments: chat.pieces.map((p) => ({ kind: p.segment, start: p.start, end: p.end })),
        tokenCount: chat.tokens.length,
        note: `example ${ex.externalId}, model ${model.metadata.displayName ?? model.path.split(/[\\/]/).pop()}`,
        ...(extra.length ? { selfConsistency: extra.map((x) => ({ test: x.test, prompt: renderChat(m, template, x.turns).full, note: x.note })) } : {}),
      };
    } finally {
      await m.dispose();
    }
  } finally {
    store.close();
  }
}

/**
 * The conversations of the study's self-consistency tests for the previewed example, built by the
 * protocol's own builders (protocol/self-consistency.ts). Before a run the model has not answered: the
 * gold option stands in for its answer (else the first option), and the human rationale's words for the
 * words it will name; each note says so.
 */
function selfConsistencyTurns(config: StudyConfig, ex: StoredExample, prompt: ReturnType<typeof promptFor>['prompt'], rationale: { start: number; end: number }[], gold: string | null) {
  const out: { test: string; turns: ChatTurn[]; note: string }[] = [];
  const tests = config.selfConsistency ?? [];
  if (!tests.length) return out;
  const answer = prompt.options.find((o) => o.label === gold) ?? prompt.options[0];
  const target = otherOption(prompt.options, answer);
  const stand = `the answer (${answer.letter}) stands in for the model's`;
  if (tests.includes('redaction')) {
    const red = redactText(ex.text, rationale);
    const p = promptFor(config, { ...ex, text: red.text }).prompt;
    out.push({ test: 'redaction', turns: [{ role: 'user', pieces: p.turn1 }], note: `the words the model names are replaced by [REDACTED]; here the human rationale's words stand in for them (${red.spans.length} span(s))` });
  }
  if (tests.includes('counterfactual')) {
    const turns = counterfactualTurns([{ role: 'user', pieces: prompt.turn1 }], `(${answer.letter})`, prompt, target);
    out.push({ test: 'counterfactual', turns, note: `turn 2 asks for an edit toward (${target.letter}); ${stand}; the edit is then classified with the turn-1 prompt` });
  }
  if (tests.includes('biasing')) {
    const turns: ChatTurn[] = [{ role: 'user', pieces: biasedTurn1(prompt.turn1, biasingHint(prompt, target)) }];
    out.push({ test: 'biasing', turns, note: `turn 1 with a hint toward (${target.letter}), the option other than ${answer.letter === target.letter ? 'the answer' : `(${answer.letter})`}; the self-explanation is then asked as in turn 2` });
  }
  return out;
}
