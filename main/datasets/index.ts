import { parseClimateFever, CLIMATE_FEVER_LABELS } from './climate-fever';
import { parseCsvDataset, parseJsonlDataset } from './generic';
import { applyLabels } from './labels';
import { parseMsst } from './msst';
import { parseRafola, RAFOLA_INDICATORS } from './rafola';
import { defaultName, readSource } from './source';
import { DatasetError, type DatasetFormat, type ParsedDataset, type ParsedExample } from './types';

export { splitWords } from './words';
export { DatasetError } from './types';
export type * from './types';
export { RAFOLA_INDICATORS } from './rafola';
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
}

/**
 * Reads and validates a whole dataset file. Throws DatasetError (naming file, row and field) on
 * the first problem; nothing is returned for a partly valid file, so callers can store all or nothing.
 */
export function importFile(file: string, opts: ImportOptions): ParsedDataset {
  if (!DATASET_FORMATS.includes(opts.format)) {
    throw new DatasetError(file, `unknown format "${opts.format}" (expected one of ${DATASET_FORMATS.join(', ')})`);
  }
  if (opts.language !== undefined && !/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(opts.language)) {
    throw new DatasetError(file, `--language "${opts.language}" is not a language code like en, da or it`);
  }
  if (opts.labelsFile !== undefined && opts.format !== 'msst') {
    throw new DatasetError(file, `--labels is only for the msst format (${opts.format} files carry their own labels)`);
  }
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
      labelSet = [...RAFOLA_INDICATORS];
      break;
    case 'climate-fever':
      examples = parseClimateFever(src, { language: opts.language });
      labelSet = [...CLIMATE_FEVER_LABELS];
      break;
    case 'csv':
      examples = parseCsvDataset(src, { language: opts.language });
      labelSet = labelsSeen(examples);
      break;
    case 'jsonl':
      examples = parseJsonlDataset(src, { language: opts.language });
      labelSet = labelsSeen(examples);
      break;
    case 'eraser':
      throw new DatasetError(file, 'an ERASER dataset is a directory: it is read by main/importers/eraser (import <dir> --format eraser)');
  }
  const langs = new Set(examples.map((e) => e.language));
  if (language === null && langs.size === 1) language = [...langs][0];
  return {
    name: opts.name ?? defaultName(file),
    format: opts.format,
    sourcePath: src.absPath,
    sourceSha256: src.sha256,
    language: langs.size === 1 ? language : null,
    labelSet,
    examples,
  };
}

function labelsSeen(examples: ParsedExample[]): string[] {
  return [...new Set(examples.flatMap((e) => e.labels))].sort();
}
