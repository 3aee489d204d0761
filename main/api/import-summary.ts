import { longTexts, longTextWarning } from '../datasets/length';
import type { DatasetRecord, StoredExample } from '../store/types';
import type { ImportReport } from './catalogue';

/** The validation report shown after an import: counts by language and label, and what is missing. */
export function importReport(dataset: DatasetRecord, examples: StoredExample[]): ImportReport {
  const languages: Record<string, number> = {};
  const labels: Record<string, number> = {};
  let withoutLabels = 0;
  for (const e of examples) {
    languages[e.language] = (languages[e.language] ?? 0) + 1;
    if (e.labels.length === 0) withoutLabels++;
    for (const l of e.labels) labels[l] = (labels[l] ?? 0) + 1;
  }
  // counted by the store, by one rule: a rationale that marks something (an all-zero mask is none)
  const withRationale = dataset.withRationale;
  const warnings: string[] = [];
  const without = examples.length - withRationale;
  if (without > 0) warnings.push(`${without} of ${examples.length} examples have no human rationale; plausibility skips them`);
  if (withoutLabels > 0) {
    warnings.push(`${withoutLabels} of ${examples.length} examples have no gold label; accuracy and "only correct" filtering need a labels file`);
  }
  // texts longer than common contexts, estimated (no model is chosen yet); the study form counts exactly
  const long = longTexts(examples);
  for (const l of long) warnings.push(longTextWarning(l, examples.length));
  return { dataset, examples: examples.length, withRationale, withoutLabels, languages, labels, warnings, longTexts: long };
}
