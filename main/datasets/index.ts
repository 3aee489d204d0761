import { parseClimateFever, CLIMATE_FEVER_LABELS } from './climate-fever';
import { applyLabels } from './labels';
import { parseMsst } from './msst';
import { ILO_INDICATORS } from '../protocol/indicators';
import { parseRafola } from './rafola';
import { defaultName, readSource } from './source';
import { checkLanguageOption, datasetLanguage, readTextDataset, streamDataset, writeStream, type ExampleSink } from './stream';
import type { UserPlace } from './messages';
import { DatasetError, type DatasetFormat, type ParsedDataset, type ParsedExample } from './types';

export { splitWords } from './words';
export { streamDataset, type DatasetStream } from './stream';
export { DatasetError } from './types';
export { DatasetProblems, PROBLEM_CAP, type DatasetProblem } from './problems';
export { noLanguageMessage, type UserPlace } from './messages';
export type * from './types';
export { CLIMATE_FEVER_LABELS, CLAIM_EVIDENCE_SEPARATOR } from './climate-fever';

export const DATASET_FORMATS: readonly DatasetFormat[] = ['msst', 'rafola', 'climate-fever', 'csv', 'jsonl'];

export interface ImportOptions {
  format: DatasetFormat;
  /** ISO 639-1 code; overrides what the file says (mSST sheet name), fills in where it says nothing. */
  language?: string;
  /** Dataset name; default: the file name without extension. */
  name?: string;
  /** mSST only: an `id,label` CSV giving each example's gold label. */
  labelsFile?: string;
  /** The import form's label mapping, stored with the dataset (its keys must be labels of the file). */
  labelMap?: Record<string, string | null>;
  /** Where the user is: messages name the CLI's flags or the import form's fields (default the CLI). */
  where?: UserPlace;
}

/**
 * Imports a file into a staged, all-or-nothing writer (the store's `datasets.beginImport`) and returns the
 * dataset's id. CSV and JSONL are validated in a first pass and written in batches in a second, so memory
 * holds one batch whatever the file's size; the other formats are parsed whole (importFile), then written.
 * The one import path of the app's import job and the CLI's `import`.
 */
export function importInto(file: string, opts: ImportOptions, begin: (meta: Omit<ParsedDataset, 'examples'>) => ExampleSink): number {
  if ((opts.format === 'csv' || opts.format === 'jsonl') && opts.labelsFile === undefined) {
    const s = streamDataset(file, { format: opts.format, language: opts.language, name: opts.name, where: opts.where });
    const { examples: _examples, exampleCount: _count, ...meta } = s;
    return writeStream(s, begin(withLabelMap(file, meta, opts.labelMap)));
  }
  const { examples, ...parsed } = importFile(file, opts);
  const sink = begin(withLabelMap(file, parsed, opts.labelMap));
  try {
    sink.add(examples);
    return sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
}

/**
 * The dataset's metadata with the import's label mapping; refused (before anything is written) when it maps
 * labels the file does not have, every one named.
 */
function withLabelMap<M extends Omit<ParsedDataset, 'examples'>>(file: string, meta: M, labelMap: Record<string, string | null> | undefined): M {
  if (!labelMap || Object.keys(labelMap).length === 0) return meta;
  const unknown = Object.keys(labelMap).filter((l) => !meta.labelSet.includes(l));
  if (unknown.length) {
    throw new DatasetError(file, `the label mapping names label${unknown.length > 1 ? 's' : ''} the file does not have: ${unknown.map((l) => JSON.stringify(l)).join(', ')} (its labels: ${meta.labelSet.map((l) => JSON.stringify(l)).join(', ')})`);
  }
  return { ...meta, labelMap };
}

/**
 * Reads and validates a whole dataset file. Throws DatasetError (naming file, row and field) on
 * the first problem; nothing is returned for a partly valid file, so callers can store all or nothing.
 */
export function importFile(file: string, opts: ImportOptions): ParsedDataset {
  if (!DATASET_FORMATS.includes(opts.format)) {
    throw new DatasetError(file, `unknown format "${opts.format}" (expected one of ${DATASET_FORMATS.join(', ')})`);
  }
  checkLanguageOption(file, opts.language, opts.where);
  if (opts.labelsFile !== undefined && opts.format !== 'msst') {
    throw new DatasetError(file, `--labels is only for the msst format (${opts.format} files carry their own labels)`);
  }
  // CSV and JSONL are read in chunks (stream.ts, which the import job streams from); here, whole.
  if (opts.format === 'csv' || opts.format === 'jsonl') return readTextDataset(file, { format: opts.format, language: opts.language, name: opts.name, where: opts.where });
  const src = readSource(file);
  let examples: ParsedExample[];
  let language: string | null = opts.language ?? null;
  let labelSet: string[];
  switch (opts.format) {
    case 'msst': {
      const r = parseMsst(src, { language: opts.language });
      examples = r.examples;
      language = r.language;
      labelSet = opts.labelsFile !== undefined ? applyLabels(examples, opts.labelsFile) : [];
      break;
    }
    case 'rafola':
      examples = parseRafola(src);
      language = 'en';
      // the 11 indicator names, in the ILO's order
      labelSet = [...ILO_INDICATORS];
      break;
    case 'climate-fever':
      examples = parseClimateFever(src, { language: opts.language });
      labelSet = [...CLIMATE_FEVER_LABELS];
      break;
    case 'eraser':
      throw new DatasetError(file, 'an ERASER dataset is a directory: it is read by main/importers/eraser (import <dir> --format eraser)');
  }
  const langs = new Set(examples.map((e) => e.language));
  return {
    name: opts.name ?? defaultName(file),
    format: opts.format,
    sourcePath: src.absPath,
    sourceSha256: src.sha256,
    language: datasetLanguage(language, langs),
    labelSet,
    examples,
  };
}
