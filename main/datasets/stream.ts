import { csvExamples, jsonlExamples } from './generic';
import { statSync } from 'node:fs';
import { badLanguageMessage, type UserPlace } from './messages';
import { defaultName, openTextSource, type TextSource } from './source';
import { DatasetError, type ParsedDataset, type ParsedExample } from './types';

/**
 * CSV and JSONL datasets without holding the file or its examples in memory (a 50 MB CSV is some
 * 280,000 examples, about 2.5 GB as ParsedExample objects).
 *
 * streamDataset reads the file three times, one chunk at a time: once to hash it and check its
 * UTF-8, once to validate every row (collecting only the label set, languages and ids), and once
 * more each time `examples` is iterated, for the writer. So a bad row is refused before anything is
 * written (all or nothing, as with importFile), and a writer can store the examples in bounded
 * chunks. Each pass validates again; a file whose size or modification time changed since the first pass
 * ends the iteration with an error (the writer rolls back).
 */
export type TextFormat = 'csv' | 'jsonl';

export interface TextDatasetOptions {
  format: TextFormat;
  language?: string;
  name?: string;
  /** Where the user is (messages name the CLI's flag or the import form's field); default the CLI. */
  where?: UserPlace;
}

/** A validated dataset whose examples are read from the file again on each iteration. */
export interface DatasetStream extends Omit<ParsedDataset, 'examples'> {
  exampleCount: number;
  examples: Iterable<ParsedExample>;
}

export function streamDataset(file: string, opts: TextDatasetOptions): DatasetStream {
  checkLanguageOption(file, opts.language, opts.where);
  const src = openTextSource(file);
  const labels = new Set<string>();
  const langs = new Set<string>();
  let count = 0;
  for (const ex of examplesOf(src, opts)) {
    count++;
    for (const l of ex.labels) labels.add(l);
    langs.add(ex.language);
  }
  return {
    ...summary(file, src, opts, labels, langs),
    exampleCount: count,
    examples: {
      *[Symbol.iterator]() {
        yield* examplesOf(src, opts);
        if (changed(src)) throw new DatasetError(file, 'the file changed while it was being imported; import it again');
      },
    },
  };
}

/** A staged, all-or-nothing writer of one dataset's examples (the store's DatasetImport has this shape). */
export interface ExampleSink {
  add(examples: readonly ParsedExample[]): void;
  commit(): number;
  abort(): void;
}

/**
 * Examples handed to the writer at a time: memory holds one batch, whatever the file's size (500, the
 * size of one of the staged writer's transactions; 2000 put a 50 MB CSV's import just over 300 MB).
 */
export const WRITE_BATCH = 500;

/**
 * Feeds a validated stream to a staged writer in batches and commits; any failure (including the file
 * changing under the second pass) aborts the writer, so nothing of the dataset remains.
 */
export function writeStream(s: DatasetStream, sink: ExampleSink, batch: number = WRITE_BATCH): number {
  try {
    let buf: ParsedExample[] = [];
    for (const ex of s.examples) {
      buf.push(ex);
      if (buf.length === batch) {
        sink.add(buf);
        buf = [];
      }
    }
    if (buf.length > 0) sink.add(buf);
    return sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
}

/** The whole dataset in memory (importFile's form, for small files and previews): two passes. */
export function readTextDataset(file: string, opts: TextDatasetOptions): ParsedDataset {
  const src = openTextSource(file);
  const examples = [...examplesOf(src, opts)];
  const labels = new Set(examples.flatMap((e) => e.labels));
  const langs = new Set(examples.map((e) => e.language));
  return { ...summary(file, src, opts, labels, langs), examples };
}

function examplesOf(src: TextSource, opts: TextDatasetOptions): Iterable<ParsedExample> {
  const o = { language: opts.language, where: opts.where };
  return opts.format === 'csv' ? csvExamples(src, o) : jsonlExamples(src, o);
}

function changed(src: TextSource): boolean {
  try {
    const st = statSync(src.absPath);
    return st.size !== src.size || st.mtimeMs !== src.mtimeMs;
  } catch {
    return true;
  }
}

function summary(file: string, src: TextSource, opts: TextDatasetOptions, labels: Set<string>, langs: Set<string>): Omit<ParsedDataset, 'examples'> {
  return {
    name: opts.name ?? defaultName(file),
    format: opts.format,
    sourcePath: src.absPath,
    sourceSha256: src.sha256,
    language: datasetLanguage(opts.language ?? null, langs),
    labelSet: [...labels].sort(),
  };
}

/** Refuses a --language option that is not a language code (importFile and streamDataset alike). */
export function checkLanguageOption(file: string, language: string | undefined, where: UserPlace = 'cli'): void {
  if (language !== undefined && !/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(language)) {
    throw new DatasetError(file, badLanguageMessage(language, where));
  }
}

/** The dataset-wide language: the one every example has, else none (whatever was declared). */
export function datasetLanguage(declared: string | null, langs: Set<string>): string | null {
  if (langs.size !== 1) return null;
  return declared ?? [...langs][0];
}
