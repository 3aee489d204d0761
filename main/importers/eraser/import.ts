/**
 * Import of an ERASER dataset (format.ts) as a workbench dataset: one example per annotation, its text the
 * annotation's document, its words ERASER's tokens, its human rationale the union of its evidences, its
 * gold label the classification, the query kept in meta (and as the claim when it is one, for
 * claim-verification studies).
 *
 * Read and validated whole before anything is stored; every problem names the file, line and field, all
 * problems at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { maskToSpans } from '../../datasets/rationale';
import { decodeUtf8 } from '../../datasets/source';
import { DatasetError, type ParsedDataset, type ParsedExample } from '../../datasets/types';
import { splitWords } from '../../datasets/words';
import { documentTokens } from './format';

export const ERASER_SPLITS = ['train', 'val', 'test'] as const;

export interface EraserImportOptions {
  /** Splits to read when `path` is a directory (default: each of train, val, test that is there). */
  splits?: string[];
  /** ISO 639-1 code of the texts (ERASER's datasets are English: default "en"). */
  language?: string;
  name?: string;
}

interface Docs {
  get(docid: string): string | undefined;
  /** Whether docs come from a docs/ folder (ERASER then drops empty lines and tokens). */
  folder: boolean;
  files: string[];
}

function readText(file: string): string {
  try {
    return decodeUtf8(readFileSync(file), file);
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
}

function loadDocs(dir: string, problems: string[]): Docs {
  const jsonl = join(dir, 'docs.jsonl');
  const folder = join(dir, 'docs');
  if (existsSync(jsonl)) {
    const map = new Map<string, string>();
    readText(jsonl).split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const o = JSON.parse(line) as { docid?: unknown; document?: unknown };
        if (typeof o.docid !== 'string' || typeof o.document !== 'string') problems.push(`${jsonl}: line ${i + 1}: needs "docid" and "document" strings`);
        else map.set(o.docid, o.document);
      } catch (e) {
        problems.push(`${jsonl}: line ${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    });
    return { get: (d) => map.get(d), folder: false, files: [jsonl] };
  }
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    const files: string[] = [];
    return {
      get: (d) => {
        const f = join(folder, d);
        if (basename(d) !== d || !existsSync(f)) return undefined;
        files.push(f);
        return readText(f);
      },
      folder: true,
      files,
    };
  }
  throw new DatasetError(dir, 'has neither docs.jsonl nor a docs/ folder (ERASER keeps the documents there)');
}

/** Reads an ERASER dataset directory (or one annotation file beside its docs) into a dataset. */
export function importEraser(path: string, opts: EraserImportOptions = {}): ParsedDataset {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new DatasetError(path, 'not found');
  const isDir = statSync(abs).isDirectory();
  const dir = isDir ? abs : dirname(abs);
  let annotationFiles: { file: string; split: string }[];
  if (isDir) {
    const wanted = opts.splits ?? ERASER_SPLITS.filter((s) => existsSync(join(dir, `${s}.jsonl`)));
    annotationFiles = wanted.map((s) => ({ file: join(dir, `${s}.jsonl`), split: s }));
    if (annotationFiles.length === 0) throw new DatasetError(path, `has no annotation file (${ERASER_SPLITS.map((s) => `${s}.jsonl`).join(', ')})`);
  } else annotationFiles = [{ file: abs, split: basename(abs).replace(/\.jsonl$/, '') }];
  const language = opts.language ?? 'en';
  const problems: string[] = [];
  const docs = loadDocs(dir, problems);
  const hash = createHash('sha256');
  const examples: ParsedExample[] = [];
  const ids = new Set<string>();
  for (const { file, split } of annotationFiles) {
    const text = readText(file);
    hash.update(text);
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file}: line ${i + 1}`;
      let a: { annotation_id?: unknown; query?: unknown; evidences?: unknown; classification?: unknown; query_type?: unknown; docids?: unknown };
      try {
        a = JSON.parse(line);
      } catch (e) {
        problems.push(`${where}: not valid JSON (${(e as Error).message})`);
        return;
      }
      if (typeof a.annotation_id !== 'string' || !a.annotation_id) return void problems.push(`${where}, field "annotation_id": missing or not a string`);
      if (ids.has(a.annotation_id)) return void problems.push(`${where}, field "annotation_id": "${a.annotation_id}" appears twice`);
      ids.add(a.annotation_id);
      if (typeof a.classification !== 'string') return void problems.push(`${where}, field "classification": missing or not a string`);
      if (!Array.isArray(a.evidences) || a.evidences.some((g) => !Array.isArray(g))) return void problems.push(`${where}, field "evidences": not a list of evidence groups`);
      const evs = (a.evidences as unknown[][]).flat() as { docid?: unknown; start_token?: unknown; end_token?: unknown; text?: unknown }[];
      const docids = Array.isArray(a.docids) && a.docids.length ? (a.docids as unknown[]) : [...new Set(evs.map((e) => e.docid))];
      const docid = docids.length ? docids[0] : a.annotation_id;
      if (docids.length > 1) return void problems.push(`${where}, field "docids": ${docids.length} documents; the workbench takes one document per example`);
      if (typeof docid !== 'string') return void problems.push(`${where}, field "docids": not a string`);
      const document = docs.get(docid);
      if (document === undefined) return void problems.push(`${where}: document "${docid}" is not in ${docs.folder ? 'docs/' : 'docs.jsonl'}`);
      hash.update(`\u0000${docid}\u0000${document}`);
      const toks = documentTokens(document, docs.folder);
      const words = toks.map((t) => ({ text: t.text, start: t.start, end: t.end }));
      // the workbench's words are the text's whitespace words; ERASER's tokens must be the same
      const ws = splitWords(document);
      if (toks.some((t) => t.start === t.end) || ws.length !== words.length || ws.some((w, j) => w.start !== words[j].start || w.end !== words[j].end)) {
        return void problems.push(`${where}: document "${docid}" has tokens that are not its whitespace words (empty tokens from double spaces or empty lines, or tabs inside a token)`);
      }
      const mask = words.map(() => 0);
      evs.forEach((e, j) => {
        const f = `${where}, field "evidences" item ${j + 1}`;
        if (e.docid !== docid) return void problems.push(`${f}: docid ${JSON.stringify(e.docid)} is not the example's document "${docid}"`);
        const s = e.start_token;
        const t = e.end_token;
        if (!Number.isInteger(s) || !Number.isInteger(t) || (s as number) < 0 || (t as number) > words.length || (s as number) >= (t as number)) {
          return void problems.push(`${f}: tokens [${s}, ${t}) are not a span of the document's ${words.length} tokens`);
        }
        const spanText = words.slice(s as number, t as number).map((w) => w.text).join(' ');
        if (typeof e.text === 'string' && e.text.trim().split(/\s+/).join(' ') !== spanText) {
          return void problems.push(`${f}: text ${JSON.stringify(e.text)} is not the tokens [${s}, ${t}) ${JSON.stringify(spanText)}`);
        }
        for (let k = s as number; k < (t as number); k++) mask[k] = 1;
      });
      const query = typeof a.query === 'string' ? a.query : null;
      const hasRationale = evs.length > 0;
      examples.push({
        externalId: a.annotation_id,
        text: document,
        language,
        labels: [a.classification],
        words,
        rationaleMask: hasRationale ? mask : null,
        rationaleSpans: hasRationale ? maskToSpans(words, mask) : [],
        meta: { split, docid, query, queryType: typeof a.query_type === 'string' ? a.query_type : null, ...(query ? { claim: query } : {}) },
      });
    });
  }
  if (problems.length) throw new DatasetError(path, `${problems.length} problem(s):\n${problems.join('\n')}`);
  if (examples.length === 0) throw new DatasetError(path, 'no annotations');
  for (const f of docs.files) hash.update(readFileSync(f));
  return {
    name: opts.name ?? basename(dir),
    format: 'eraser',
    sourcePath: annotationFiles.length === 1 ? annotationFiles[0].file : dir,
    sourceSha256: hash.digest('hex'),
    language,
    labelSet: [...new Set(examples.map((e) => e.labels[0]))].sort(),
    examples,
  };
}
