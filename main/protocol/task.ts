/**
 * An example under a study's task: the task spec its prompt is built from, its gold label (protocol/gold.ts
 * decides it), the human rationale that belongs to the task (a forced-labour study keeps only its
 * indicator's spans), and the exact task prompt with the study's templates. The runner, the prompt preview
 * and `predict --study` all ask here, so a preview shows what the model is given.
 */
import type { StudyConfig } from '../config/study-schema';
import type { CharSpan } from '../datasets/types';
import type { StoredExample } from '../store/types';
import { goldLabel, goldRule, type GoldLabel } from './gold';
import { iloNumber, spanIndicator, type Indicator } from './indicators';
import { buildTaskPrompt, type TaskPrompt, type TaskSpec } from './prompts';

/**
 * The task spec, rationale and gold label of an example under the study's task. protocol/gold.ts decides
 * the gold label: `gold` is the option's label, null when the example is left out by the study's labelMap
 * or its label does not map (`goldLabel` says which and why).
 */
export function taskFor(config: StudyConfig, ex: StoredExample, indicators?: Indicator[]): { spec: TaskSpec; gold: string | null; goldLabel: GoldLabel; rationale: CharSpan[] } {
  const t = taskOf(config, ex, indicators);
  const g = goldLabel(ex.labels, goldRule(config.task, t.spec.task === 'forced-labour' ? t.spec.indicator.label : undefined));
  return { ...t, gold: g.status === 'ok' ? g.label : null, goldLabel: g };
}

/** The task spec and rationale of an example under the study's task. */
function taskOf(config: StudyConfig, ex: StoredExample, indicators?: Indicator[]): { spec: TaskSpec; rationale: CharSpan[] } {
  const t = config.task;
  if (t.kind === 'sentiment') {
    const lang = (['en', 'da', 'it'].includes(ex.language) ? ex.language : config.language) as 'en' | 'da' | 'it';
    return { spec: { task: 'sentiment', language: lang }, rationale: ex.rationaleSpans };
  }
  if (t.kind === 'forced-labour') {
    const name = t.indicator!;
    // the study's own definitions (recorded in its config), unless the caller gives others
    const ind = (indicators ?? t.definitions?.indicators)?.find((i) => i.label === name) ?? { number: iloNumber(name), label: name, definition: '' };
    // only this indicator's rationale spans (labelled by indicator name; older imports: RaFoLa's "01".."11")
    const rationale = ex.rationaleSpans.filter((s) => s.label === undefined || spanIndicator(s.label) === name);
    return { spec: { task: 'forced-labour', indicator: ind }, rationale };
  }
  if (t.kind === 'claim-verification') {
    const claim = typeof ex.meta?.claim === 'string' ? (ex.meta.claim as string) : ex.text.split('\n')[0];
    return { spec: { task: 'claim', claim }, rationale: ex.rationaleSpans };
  }
  if (t.kind === 'custom') {
    // The study's own labels are the options, lettered (a), (b), ... in the order given; the label is the
    // option's text and the word a free answer is parsed by. The wording around them is the built-in
    // generic one unless the study has prompt templates.
    return {
      spec: {
        task: 'custom',
        language: ex.language || config.language,
        intro: 'Consider the following text: ',
        options: t.labels.map((label) => ({ label, description: label })),
      },
      rationale: ex.rationaleSpans,
    };
  }
  throw new Error(`task kind "${(t as { kind: string }).kind}" is not supported by the runner`);
}

/**
 * The exact prompt of an example under a study: its task, gold label and rationale, and the task prompt
 * with the study's prompt templates (config.prompts) in place of the built-in wording. The runner and the
 * prompt preview both build prompts here, so the preview shows what the model is given.
 */
export function promptFor(config: StudyConfig, ex: StoredExample, indicators?: Indicator[]): ReturnType<typeof taskFor> & { prompt: TaskPrompt } {
  const task = taskFor(config, ex, indicators);
  return { ...task, prompt: buildTaskPrompt(task.spec, ex.text, config.prompts) };
}
