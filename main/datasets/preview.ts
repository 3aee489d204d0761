import { csvExamples, jsonlExamples } from './generic';
import { importFile, type ImportOptions } from './index';
import { LongTextCounter, type LongTexts } from './length';
import { DatasetProblems, type DatasetProblem } from './problems';
import { openTextSource } from './source';
import { checkLanguageOption } from './stream';
import { DatasetError, type ParsedExample } from './types';

/**
 * A dry run of an import: the file parsed and validated exactly as the import would (same importers, same
 * options), nothing stored. The import form shows it after a file is chosen: every problem of the file at
 * once, or the labels found (to map them), the languages, and the texts longer than common contexts.
 */
export interface DatasetPreview {
  /** Examples that passed validation (all of them when there are no problems). */
  examples: number;
  /** Distinct gold labels, as written in the file, with their counts. */
  labels: Record<string, number>;
  languages: Record<string, number>;
  /** The problems the import would refuse the file for (the first PROBLEM_CAP), and how many in all. */
  problems: DatasetProblem[];
  problemCount: number;
  /** Texts longer than common contexts (estimated tokens). */
  longTexts: LongTexts[];
}

export function previewDataset(file: string, opts: ImportOptions): DatasetPreview {
  const labels: Record<string, number> = {};
  const languages: Record<string, number> = {};
  const long = new LongTextCounter();
  let examples = 0;
  const count = (ex: ParsedExample) => {
    examples++;
    for (const l of ex.labels) labels[l] = (labels[l] ?? 0) + 1;
    languages[ex.language] = (languages[ex.language] ?? 0) + 1;
    long.add(ex);
  };
  let problems: DatasetProblem[] = [];
  let problemCount = 0;
  try {
    if ((opts.format === 'csv' || opts.format === 'jsonl') && opts.labelsFile === undefined) {
      // the streaming importers, as importInto reads the file: every row's problems, the valid rows counted
      checkLanguageOption(file, opts.language, opts.where);
      const src = openTextSource(file);
      const o = { language: opts.language, where: opts.where };
      for (const ex of opts.format === 'csv' ? csvExamples(src, o) : jsonlExamples(src, o)) count(ex);
    } else {
      for (const ex of importFile(file, opts).examples) count(ex);
    }
  } catch (e) {
    if (e instanceof DatasetProblems) {
      problems = e.problems;
      problemCount = e.total;
    } else if (e instanceof DatasetError) {
      problems = [{ detail: e.detail, ...(e.row !== undefined ? { row: e.row } : {}), ...(e.field !== undefined ? { field: e.field } : {}) }];
      problemCount = 1;
    } else throw e;
  }
  return { examples, labels, languages, problems, problemCount, longTexts: long.result() };
}
