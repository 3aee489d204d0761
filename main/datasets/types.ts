/**
 * The shape every dataset importer produces and the store persists.
 *
 * Offsets are JavaScript string indices (UTF-16 code units) into `text`, end-exclusive,
 * so `text.slice(start, end)` is the span. Text is stored exactly as read (no trimming,
 * no normalisation), so Danish and Italian text survives byte for byte.
 */

/** 'eraser': a directory in ERASER's format (main/importers/eraser), read by its own importer. */
export type DatasetFormat = 'msst' | 'rafola' | 'climate-fever' | 'csv' | 'jsonl' | 'eraser';

export interface CharSpan {
  start: number;
  end: number;
}

/** A whitespace-delimited word of the text (the unit of the paper's word-level rationales). */
export interface WordSpan extends CharSpan {
  text: string;
}

/** A character span of a rationale; `label` ties it to a class or indicator (e.g. RaFoLa "01"). */
export interface RationaleSpan extends CharSpan {
  label?: string;
}

/** One annotator's per-word values (0/1 masks, or -1/0/+1 as in Climate-FEVER). */
export interface AnnotatorValues {
  annotator: string;
  values: number[];
}

export interface ParsedExample {
  /** Identifier from the source file (mSST ID, RaFoLa index, CSV id column or row number). */
  externalId: string;
  text: string;
  /** ISO 639-1 code, e.g. "en", "da", "it". */
  language: string;
  /** Gold label(s); empty when the source has none (mSST without a labels file). */
  labels: string[];
  /** Whitespace words of `text`, in order. */
  words: WordSpan[];
  /** Human rationale as 0/1 per entry of `words`; null when the example has no rationale. */
  rationaleMask: number[] | null;
  /** Human rationale as character spans (derived from the mask when the source gives words). */
  rationaleSpans: RationaleSpan[];
  /** Per-annotator values where the dataset has them. */
  annotators?: AnnotatorValues[];
  /** Anything else from the source worth keeping (title, split, importance ranks...). JSON-serialisable. */
  meta?: Record<string, unknown>;
}

export interface ParsedDataset {
  name: string;
  format: DatasetFormat;
  /** Absolute path of the imported file, and its sha256 (hex). */
  sourcePath: string;
  sourceSha256: string;
  /** Dataset-wide language when there is one. */
  language: string | null;
  /** The label vocabulary seen or declared (e.g. ["negative","positive"], RaFoLa indicator labels). */
  labelSet: string[];
  /**
   * The label mapping chosen at import (the import form): dataset label -> a canonical label, or null to leave
   * those examples out. Stored with the dataset; the examples keep their labels as written, and a study's
   * task.labelMap starts from it (protocol/gold.ts applies it).
   */
  labelMap?: Record<string, string | null>;
  examples: ParsedExample[];
}

/** Raised by importers; the message always names the file, and the row and field where known. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly row?: number,
    readonly field?: string,
  ) {
    super(
      `${file}${row !== undefined ? `: row ${row}` : ''}${field !== undefined ? `, field "${field}"` : ''}: ${detail}`,
    );
    this.name = 'DatasetError';
  }
}
