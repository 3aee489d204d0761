import type { Correctness, ExampleFilter, MetricsFilter } from '../../../main/api/catalogue';

/**
 * The Results screen's filter choices as its selects hold them ('' means "all"), shared with the
 * Inspector. Only the argument for the engine is built here: which examples a filter chooses is
 * decided in the engine (main/api/result-filter.ts), never in the renderer.
 */
export interface FilterChoice {
  /** A run id, or '' for all runs. */
  run: string;
  language: string;
  indicator: string;
  model: string;
  correct: Correctness;
}

export const noFilter = (): FilterChoice => ({ run: '', language: '', indicator: '', model: '', correct: 'all' });

/** The example filters as the API takes them (listResults' `filter`), unset choices left out. */
export function exampleFilter(f: FilterChoice): ExampleFilter {
  return {
    ...(f.language ? { language: f.language } : {}),
    ...(f.indicator ? { indicator: f.indicator } : {}),
    ...(f.model ? { model: f.model } : {}),
    correct: f.correct,
  };
}

/** The whole filter as queryMetrics takes it: the run choice plus the example filters. */
export function metricsFilter(f: FilterChoice): MetricsFilter {
  return { ...(f.run !== '' ? { runIds: [Number(f.run)] } : {}), ...exampleFilter(f) };
}

/** Whether any example filter is chosen (the run choice alone does not narrow a run's examples). */
export function filtersExamples(f: FilterChoice): boolean {
  return f.language !== '' || f.indicator !== '' || f.model !== '' || f.correct !== 'all';
}

/** The "correct or not" choice in words, as the Results screen and the Inspector say it. */
export const CORRECT_TEXT: Record<Correctness, string> = { all: 'all answers', correct: 'correct answers only', incorrect: 'wrong answers only' };

/** The chosen example filters in words, e.g. "model X, language da, wrong answers only". */
export function describeFilter(f: FilterChoice): string {
  return [
    f.model && `model ${f.model}`,
    f.indicator && `indicator ${f.indicator}`,
    f.language && `language ${f.language}`,
    f.correct !== 'all' && CORRECT_TEXT[f.correct],
  ]
    .filter(Boolean)
    .join(', ');
}

const CORRECTNESS: readonly Correctness[] = ['all', 'correct', 'incorrect'];

/**
 * A filter read back from session storage, or null when it is not one (an older or edited entry
 * must not break the screens: they then start without filters).
 */
export function parseFilterChoice(v: unknown): FilterChoice | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string' && (o[k] as string).length <= 500;
  if (!str('run') || !str('language') || !str('indicator') || !str('model')) return null;
  if (o.run !== '' && !/^[1-9]\d{0,15}$/.test(o.run as string)) return null;
  if (!CORRECTNESS.includes(o.correct as Correctness)) return null;
  return { run: o.run as string, language: o.language as string, indicator: o.indicator as string, model: o.model as string, correct: o.correct as Correctness };
}
