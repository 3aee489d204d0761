/**
 * The study form's fit check (checkStudyFit), run in the engine process: for each chosen model, every
 * example of the study's dataset counted with the model's own tokenizer (vocabulary-only load) and chat
 * template against the context the run will create, by the runner's own rule (runner/fit.ts). The examples
 * that will not fit are listed, so the user chooses before the run to skip or truncate them.
 */
import type { StudyConfig } from '../config/study-schema';
import { inspectHeader } from '../models/registry';
import { loadVocabOnly } from '../models/session';
import { modelChatTemplate, templateProblem } from '../protocol/template-families';
import { runContextSize, TOO_LONG_CAP, tooLongExamples, trainContextOf } from '../runner/fit';
import { builtinDatasetId, indicatorDefinitionsFor } from '../runner/study';
import { openStore } from '../store';
import type { StudyFit } from './catalogue';

export async function checkStudyFit(a: { dbFile: string; config: StudyConfig }): Promise<StudyFit> {
  const { config } = a;
  const store = openStore(a.dbFile);
  try {
    const datasetId = config.dataset.id ?? builtinDatasetId(store, config.dataset.builtin!);
    let examples = store.datasets.examples(datasetId);
    if (config.limits.maxExamples) examples = examples.slice(0, config.limits.maxExamples);
    const defs = indicatorDefinitionsFor(config);
    const models: StudyFit['models'] = [];
    for (const m of config.models) {
      const rec = m.id !== undefined ? store.models.get(m.id) : undefined;
      const name = rec ? String(rec.metadata.displayName ?? rec.path.split(/[\\/]/).pop()) : `model ${m.id ?? m.path}`;
      if (!rec) {
        models.push({ modelId: m.id ?? null, name, context: null, checked: 0, count: 0, tooLong: [], problem: 'not a registered model' });
        continue;
      }
      // a file gone or broken since it was registered: said here (its runs would fail with the reason)
      let problem: string | null = null;
      try {
        inspectHeader(rec.path);
      } catch (e) {
        problem = `its file cannot be read: ${(e as Error).message.split(rec.path).join(name)}`;
      }
      if (problem) {
        models.push({ modelId: rec.id, name, context: null, checked: 0, count: 0, tooLong: [], problem });
        continue;
      }
      const model = await loadVocabOnly(rec.path);
      try {
        // the template the run renders with: chosen on the Models screen, or the GGUF's own (template-families.ts)
        const template = modelChatTemplate(rec);
        if (template === null) {
          models.push({ modelId: rec.id, name, context: null, checked: 0, count: 0, tooLong: [], problem: templateProblem(rec)! });
          continue;
        }
        const context = runContextSize(trainContextOf(model), config.limits);
        const list = tooLongExamples({ model, template, contextSize: context }, config, examples, defs?.indicators);
        models.push({ modelId: rec.id, name, context, checked: examples.length, count: list.length, tooLong: list.slice(0, TOO_LONG_CAP) });
      } finally {
        await model.dispose();
      }
    }
    const count = models.reduce((n, m) => n + m.count, 0);
    const choice = config.limits.tooLong ?? null;
    return { models, count, choice, ok: count === 0 || choice !== null };
  } finally {
    store.close();
  }
}
