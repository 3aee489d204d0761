/**
 * Gold labels under a task: the one place that decides which of the task's answer options an example's
 * dataset label stands for. The runner, the study check before a run and the API's form validation all
 * ask here, so a label can never mean one thing when checked and another when scored.
 *
 * The rule (README "Gold labels"):
 *   - The task's options are the labels of its answer options as the protocol words them (prompts.ts):
 *     sentiment positive/negative, forced-labour yes/no, claim supports/refutes/not-enough-info, a custom
 *     task its own labels.
 *   - A study's explicit `task.labelMap` wins: a dataset label (exactly as written in the dataset) maps to
 *     an option, or to null, which leaves the examples with that label out of the run (stored as skipped,
 *     reason "excluded-label", never scored).
 *   - Otherwise a label maps to the option it names, compared case-insensitively with spaces, "_" and "-"
 *     treated alike (so Climate-FEVER's NOT_ENOUGH_INFO is not-enough-info).
 *   - Forced-labour without a mapping follows RaFoLa: an example's labels are the names of the indicators
 *     present; gold is "yes" when the study's indicator is among them, "no" otherwise (no labels: none
 *     present). A bare "yes"/"no" does not say which indicator it is about, so it needs an explicit mapping
 *     (that mapping is the user's statement that the labels are about the study's indicator).
 *   - Anything else does not map. A study with any example whose label does not map is refused before a
 *     model runs, with every such example listed (up to a cap): it is never scored as right or wrong.
 */
import type { StudyConfig } from '../config/study-schema';
import { ILO_INDICATORS } from './indicators';
import type { Store } from '../store';
import { buildTaskPrompt, type TaskSpec } from './prompts';

/** Dataset label (as written in the dataset) -> task option label, or null to leave those examples out. */
export type LabelMap = Record<string, string | null>;

/** The task fields the rule needs (the study config's `task`, after parsing). */
export interface GoldTask {
  kind: 'sentiment' | 'forced-labour' | 'claim-verification' | 'custom';
  /** A custom task's labels (its options); ignored by the other kinds, whose options are the protocol's. */
  labels?: readonly string[];
  /** Forced-labour: the study's indicator, by name (protocol/indicators.ts). */
  indicator?: string;
  labelMap?: LabelMap;
}

export interface GoldRule {
  task: GoldTask['kind'];
  /** The labels of the task's answer options, exactly as an answer is labelled. */
  options: readonly string[];
  labelMap: LabelMap;
  /** Forced-labour: the study's indicator and the names of all indicators (the ILO's, as RaFoLa labels them). */
  indicator?: { label: string; all: readonly string[] };
}

export type GoldLabel =
  | { status: 'ok'; label: string }
  /** The study's labelMap sends this label to null: the example is left out, not scored. */
  | { status: 'excluded'; value: string }
  | { status: 'unmapped'; value: string; reason: string };

/** The labels of a task kind's answer options, read from the protocol's own prompt (no second list). */
export function taskOptionLabels(task: Pick<GoldTask, 'kind' | 'labels'>): string[] {
  // a custom task's options are its labels, lettered in the order given (protocol/task.ts taskFor)
  if (task.kind === 'custom') return [...(task.labels ?? [])];
  const spec: TaskSpec =
    task.kind === 'sentiment'
      ? { task: 'sentiment', language: 'en' }
      : task.kind === 'forced-labour'
        ? { task: 'forced-labour', indicator: { number: 1, label: '', definition: '' } }
        : { task: 'claim', claim: '' };
  return buildTaskPrompt(spec, '').options.map((o) => o.label);
}

/** Case-insensitive; runs of spaces, "_" and "-" count as one separator. */
const norm = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, '-');

/** The option a value names under the same comparison as gold labels ("Positive" is positive), if any. */
export function optionNamed(value: string, options: readonly string[]): string | undefined {
  return options.find((o) => norm(o) === norm(value));
}

/**
 * The rule of a study's task. Forced-labour gold labels name indicators (imports map RaFoLa's labels to the
 * ILO names); `indicatorLabel` is the study's indicator as its prompt names it, by default its name.
 */
export function goldRule(task: GoldTask, indicatorLabel?: string): GoldRule {
  const forced = task.kind === 'forced-labour' && task.indicator !== undefined;
  return {
    task: task.kind,
    options: taskOptionLabels(task),
    labelMap: task.labelMap ?? {},
    ...(forced ? { indicator: { label: indicatorLabel ?? task.indicator!, all: ILO_INDICATORS } } : {}),
  };
}

/** The option an example's labels stand for under the rule (see the module comment). */
export function goldLabel(labels: readonly string[], rule: GoldRule): GoldLabel {
  const byName = new Map(rule.options.map((o) => [norm(o), o]));
  const mapped = (v: string): GoldLabel | null => {
    if (!Object.prototype.hasOwnProperty.call(rule.labelMap, v)) return null;
    const to = rule.labelMap[v];
    return to === null ? { status: 'excluded', value: v } : { status: 'ok', label: to };
  };

  if (rule.task === 'forced-labour') {
    const ind = rule.indicator;
    const names = new Map((ind?.all ?? []).map((n) => [norm(n), n]));
    let verdict: 'yes' | 'no' | null = null;
    let explicit: string | null = null;
    for (const v of labels) {
      const m = mapped(v);
      if (m?.status === 'excluded') return m;
      if (m?.status === 'ok') {
        if (explicit !== null && explicit !== m.label) return { status: 'unmapped', value: labels.join('|'), reason: `the labels map to both "${explicit}" and "${m.label}"` };
        explicit = m.label;
        continue;
      }
      const name = names.get(norm(v));
      if (name !== undefined) {
        if (ind && norm(name) === norm(ind.label)) verdict = 'yes';
        continue;
      }
      const reason = byName.has(norm(v))
        ? `does not say which indicator it is about (if it is about this study's indicator${ind ? `, "${ind.label}"` : ''}, map it)`
        : 'is neither an indicator name nor mapped';
      return { status: 'unmapped', value: v, reason };
    }
    if (explicit !== null) {
      if (verdict === 'yes' && explicit !== byName.get('yes')) return { status: 'unmapped', value: labels.join('|'), reason: `names the study's indicator but is mapped to "${explicit}"` };
      return { status: 'ok', label: explicit };
    }
    return { status: 'ok', label: verdict === 'yes' ? byName.get('yes')! : byName.get('no')! };
  }

  if (labels.length === 0) return { status: 'unmapped', value: '', reason: 'no gold label (an mSST file needs its labels file when imported)' };
  if (labels.length > 1) return { status: 'unmapped', value: labels.join('|'), reason: `is ${labels.length} labels; a ${rule.task} task needs exactly one` };
  const v = labels[0];
  const m = mapped(v);
  if (m) return m;
  const o = byName.get(norm(v));
  if (o !== undefined) return { status: 'ok', label: o };
  return { status: 'unmapped', value: v, reason: 'is not an option of the task nor mapped' };
}

/** One label value (or combination of labels, joined by "|") that does not map, and its examples. */
export interface UnmappedValue {
  value: string;
  reason: string;
  /** How many examples have it. */
  count: number;
  /** Its first examples (at most the cap). */
  examples: { exampleId: number; externalId: string; position: number }[];
}

export interface LabelCheck {
  ok: boolean;
  /** How many examples do not map in all. */
  count: number;
  /** How many examples were checked. */
  checked: number;
  /** Every value that does not map, in order of first appearance, each with its first examples. */
  unmapped: UnmappedValue[];
  /** Examples left out by the mapping (null targets). */
  excluded: number;
  /** The task's options: what a mapping may map to. */
  options: readonly string[];
}

/** How many examples a report lists per value (the counts say how many there are in all). */
export const LABEL_PROBLEM_CAP = 10;

/** Checks every example's labels under the rule: all problems at once, the examples listed per value up to `cap`. */
export function checkGoldLabels(
  examples: readonly { id: number; externalId: string; ordinal: number; labels: readonly string[] }[],
  rule: GoldRule,
  cap = LABEL_PROBLEM_CAP,
): LabelCheck {
  const values = new Map<string, UnmappedValue>();
  let count = 0;
  let excluded = 0;
  for (const ex of examples) {
    const g = goldLabel(ex.labels, rule);
    if (g.status === 'excluded') excluded++;
    if (g.status !== 'unmapped') continue;
    count++;
    let v = values.get(g.value);
    if (!v) values.set(g.value, (v = { value: g.value, reason: g.reason, count: 0, examples: [] }));
    v.count++;
    if (v.examples.length < cap) v.examples.push({ exampleId: ex.id, externalId: ex.externalId, position: ex.ordinal + 1 });
  }
  return { ok: count === 0, count, checked: examples.length, unmapped: [...values.values()], excluded, options: rule.options };
}

/** A label value as messages show it: quoted, or "(no label)" when the example has none. */
export const labelText = (value: string) => (value === '' ? '(no label)' : JSON.stringify(value));

/** A message naming each value that does not map, why, and its examples (position and id), and the way out. */
export function describeLabelCheck(check: LabelCheck, dataset: { id: number; name: string }, separator = '; '): string {
  const values = check.unmapped.map((v) => {
    const ex = v.examples.map((e) => `${e.position} (id ${e.externalId})`).join(', ');
    const more = v.count > v.examples.length ? ` and ${v.count - v.examples.length} more` : '';
    return `${labelText(v.value)} ${v.reason}: ${v.count === 1 ? 'example' : `${v.count} examples,`} ${ex}${more}`;
  });
  const example = Object.fromEntries(check.unmapped.slice(0, 3).map((v) => [v.value, check.options.includes(v.value) ? v.value : check.options[0]]));
  return [
    `dataset "${dataset.name}" (id ${dataset.id}): ${check.count} of ${check.checked} examples have a gold label that maps to none of the task's options (${check.options.join(', ')}); the study was not run`,
    ...values,
    `map each label to an option in task.labelMap, e.g. ${JSON.stringify(example)} (null leaves those examples out)`,
  ].join(separator);
}

/**
 * The gold labels of the examples a study will run (the first limits.maxExamples, as the runner takes
 * them), checked under its task. The runner refuses a study that fails this as a whole, before any run is
 * created or model loaded (a partly scored study would hide the problem in its figures); the API answers
 * the same check when a study is validated, saved or started. The way out is explicit: task.labelMap.
 */
export function studyLabelCheck(
  store: Pick<Store, 'datasets'>,
  config: Pick<StudyConfig, 'task' | 'limits'>,
  datasetId: number,
): { check: LabelCheck; dataset: { id: number; name: string } } {
  const all = store.datasets.examples(datasetId);
  const examples = config.limits.maxExamples ? all.slice(0, config.limits.maxExamples) : all;
  return { check: checkGoldLabels(examples, goldRule(config.task)), dataset: { id: datasetId, name: store.datasets.get(datasetId)?.name ?? '' } };
}

/** A study refused because gold labels do not map; `check` has the structured list. */
export class GoldLabelError extends Error {
  constructor(
    readonly check: LabelCheck,
    readonly dataset: { id: number; name: string },
  ) {
    super(describeLabelCheck(check, dataset));
    this.name = 'GoldLabelError';
  }
}
