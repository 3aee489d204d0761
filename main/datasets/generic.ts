import { CsvSyntaxError, csvRecords } from './csv';
import { noLanguageMessage, type UserPlace } from './messages';
import { ProblemList } from './problems';
import { maskToSpans, spanProblem, spansToMask, wordsToMask } from './rationale';
import { textChunks, type TextSource } from './source';
import { type CharSpan, type ParsedExample, type RationaleSpan } from './types';
import { splitWords } from './words';

/**
 * Generic CSV and JSONL datasets: one example per row/line.
 *
 * Fields: `text` (required, kept exactly as written), `label` (required: a string; in JSONL also a
 * number, or a list for multi-label), `id` (optional, default the row's line number), `language`
 * (optional, else the --language option), `rationale` (optional, see parseRationale). Any other
 * columns are kept in the example's `meta`.
 */

export interface GenericOptions {
  language?: string;
  /** Where the user is, for messages that say what to do (the CLI's flag or the import form's field). */
  where?: UserPlace;
}

const KNOWN = new Set(['text', 'label', 'id', 'language', 'rationale']);

/** A row of either format: its line number and its fields (strings for CSV, JSON values for JSONL). */
interface RawRow {
  row: number;
  values: Record<string, unknown>;
}

/** All examples of a CSV file, in memory (small files, previews); see csvExamples for the streaming form. */
export function parseCsvDataset(src: TextSource, opts: GenericOptions): ParsedExample[] {
  return [...csvExamples(src, opts)];
}

/** All examples of a JSONL file, in memory; see jsonlExamples for the streaming form. */
export function parseJsonlDataset(src: TextSource, opts: GenericOptions): ParsedExample[] {
  return [...jsonlExamples(src, opts)];
}

/**
 * The examples of a CSV file one at a time, read in chunks: memory holds one chunk and one
 * example, plus the ids seen (for the duplicate check). A row with a problem is noted and left out,
 * and the reading goes on; at the end (or at a problem after which nothing can be read) it throws
 * DatasetProblems with every problem found (problems.ts). A caller that must store all or nothing
 * reads the whole stream before writing (see stream.ts).
 */
export function csvExamples(src: TextSource, opts: GenericOptions): Generator<ParsedExample> {
  const problems = new ProblemList(src.file);
  return buildExamples(src.file, csvRows(src, problems), opts, 'csv', problems);
}

/** The examples of a JSONL file one at a time (as csvExamples). */
export function jsonlExamples(src: TextSource, opts: GenericOptions): Generator<ParsedExample> {
  const problems = new ProblemList(src.file);
  return buildExamples(src.file, jsonlRows(src, problems), opts, 'jsonl', problems);
}

function* csvRows(src: TextSource, problems: ProblemList): Generator<RawRow> {
  const records = csvRecords(textChunks(src));
  const next = () => {
    try {
      return records.next();
    } catch (e) {
      // a quote never closed leaves the rest of the file unreadable: the problems so far, and this one
      if (e instanceof CsvSyntaxError) problems.fatal(e.message, e.line);
      throw e;
    }
  };
  const first = next();
  if (first.done) problems.fatal('the file is empty');
  const header = first.value.fields;
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) problems.add(`the header names column "${h}" twice`, first.value.line);
    seen.add(h);
  }
  for (const col of ['text', 'label']) {
    if (!seen.has(col)) problems.add(`missing column "${col}" (the header has: ${header.map((h) => JSON.stringify(h)).join(', ')})`, first.value.line);
  }
  // without its columns no row can be read
  problems.throwIfAny();
  let rows = 0;
  for (let r = next(); !r.done; r = next()) {
    rows++;
    if (r.value.fields.length !== header.length) {
      problems.add(`has ${r.value.fields.length} fields but the header has ${header.length}`, r.value.line);
      continue;
    }
    const values: Record<string, unknown> = {};
    header.forEach((h, i) => (values[h] = r.value.fields[i]));
    yield { row: r.value.line, values };
  }
  if (rows === 0) problems.fatal('the file has a header but no rows');
}

function* jsonlRows(src: TextSource, problems: ProblemList): Generator<RawRow> {
  let rows = 0;
  let lineNo = 0;
  let partial = '';
  const parse = (line: string): RawRow | null => {
    lineNo++;
    if (line.trim() === '') return null;
    rows++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      // a first line that is not JSON: not a JSONL file at all (a JSON document, a CSV...); its other lines
      // would only repeat the same problem
      if (rows === 1) problems.fatal(`not valid JSON (${(e as Error).message}); a JSONL file has one JSON object per line`, lineNo);
      problems.add(`not valid JSON (${(e as Error).message})`, lineNo);
      return null;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.add('each line must be a JSON object', lineNo);
      return null;
    }
    return { row: lineNo, values: value as Record<string, unknown> };
  };
  for (const chunk of textChunks(src)) {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const r = parse(line);
      if (r) yield r;
    }
  }
  const r = parse(partial);
  if (r) yield r;
  if (rows === 0) problems.fatal('the file has no rows');
}

/** A field's problem inside buildExamples: noted with its row and field, the row left out. */
class FieldProblem extends Error {
  constructor(readonly field: string, readonly detail: string) {
    super(detail);
  }
}

function* buildExamples(file: string, rows: Iterable<RawRow>, opts: GenericOptions, kind: 'csv' | 'jsonl', problems: ProblemList): Generator<ParsedExample> {
  const ids = new Map<string, number>();
  for (const { row, values } of rows) {
    const fail = (field: string, detail: string): never => {
      throw new FieldProblem(field, detail);
    };
    // each field is checked on its own, so a row's every problem is listed; a failed field is undefined
    let bad = false;
    const check = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof FieldProblem)) throw e;
        problems.add(e.detail, row, e.field);
        bad = true;
        return undefined;
      }
    };
    const t = check(() => {
      const text = values.text;
      if (text === undefined) fail('text', 'missing');
      if (typeof text !== 'string') fail('text', `expected a string, got ${describe(text)}`);
      if ((text as string).trim() === '') fail('text', 'is empty');
      return text as string;
    });

    const labels = check(() => readLabels(values.label, kind, (d) => fail('label', d)));
    const externalId = check(() => {
      const id = readId(values.id, row, kind, (d) => fail('id', d));
      const prev = ids.get(id);
      if (prev !== undefined) fail('id', `duplicate id "${id}" (also on row ${prev})`);
      return id;
    });
    if (externalId !== undefined) ids.set(ownString(externalId), row);

    const language = check(() => {
      let language = opts.language;
      if (values.language !== undefined && values.language !== '') {
        if (typeof values.language !== 'string') fail('language', `expected a string, got ${describe(values.language)}`);
        language = values.language as string;
      }
      if (!language) fail('language', noLanguageMessage(opts.where ?? 'cli'));
      return language!;
    });

    // the rationale is read against the text: only when the text itself is fine
    const words = t !== undefined ? splitWords(t) : [];
    const rationale = t !== undefined ? check(() => parseRationale(values.rationale, t, words, (d) => fail('rationale', d))) : undefined;
    if (bad || t === undefined || labels === undefined || externalId === undefined || language === undefined) continue;
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) if (!KNOWN.has(k)) meta[k] = v;
    const ex: ParsedExample = {
      externalId,
      text: t,
      language,
      labels,
      words,
      rationaleMask: rationale?.mask ?? null,
      rationaleSpans: rationale?.spans ?? [],
    };
    if (Object.keys(meta).length > 0) ex.meta = meta;
    yield ex;
  }
  // every row read: the file is refused with all its problems, or it is whole
  problems.throwIfAny();
}

/**
 * A copy of `s` that does not point into the chunk it was cut from (V8 keeps a long slice's parent
 * string alive): the id set outlives every chunk, and must not pin them all.
 */
function ownString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

function readLabels(v: unknown, kind: 'csv' | 'jsonl', fail: (d: string) => never): string[] {
  if (v === undefined) return fail('missing');
  const one = (x: unknown): string => {
    if (typeof x === 'string') {
      if (x.trim() === '') fail('is empty');
      return x;
    }
    if (kind === 'jsonl' && typeof x === 'number' && Number.isFinite(x)) return String(x);
    if (kind === 'jsonl' && typeof x === 'boolean') return String(x);
    return fail(`expected a string${kind === 'jsonl' ? ', number or list of them' : ''}, got ${describe(x)}`);
  };
  if (Array.isArray(v) && kind === 'jsonl') {
    if (v.length === 0) fail('is an empty list');
    return v.map(one);
  }
  return [one(v)];
}

function readId(v: unknown, row: number, kind: 'csv' | 'jsonl', fail: (d: string) => never): string {
  if (v === undefined || v === null || v === '') return String(row);
  if (typeof v === 'string') return v;
  if (kind === 'jsonl' && typeof v === 'number' && Number.isFinite(v)) return String(v);
  return fail(`expected a string or number, got ${describe(v)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * A rationale in any of the accepted shapes:
 *   - a 0/1 word mask: a JSON list [0,1,1] or a space-separated string "0 1 1" (one entry per whitespace word);
 *   - a list of words: a JSON list ["lovely","film"] or a string of words separated by spaces or ";"
 *     ("lovely film", "lovely;film.")
 *     (a string made only of 0s and 1s is read as a mask); words must equal whitespace words of the text;
 *   - character spans: a JSON list [[start,end],...] (UTF-16 offsets, end-exclusive) or [{"start":..,"end":..},...].
 * Missing, null or "" means the example has no rationale. [] means a rationale that selects nothing.
 * The mask and the spans are derived from each other (see rationale.ts).
 */
export function parseRationale(
  v: unknown,
  text: string,
  words: ReturnType<typeof splitWords>,
  fail: (d: string) => never,
): { mask: number[]; spans: RationaleSpan[] } | null {
  if (v === undefined || v === null || v === '') return null;
  let list: unknown[];
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch (e) {
        return fail(`starts with "[" but is not valid JSON (${(e as Error).message})`);
      }
      if (!Array.isArray(parsed)) return fail('expected a JSON list');
      list = parsed;
    } else {
      // words as people list them: separated by spaces or by ";" ("paid;months,"), attached punctuation kept
      const parts = s.split(/[\s;]+/).filter((p) => p !== '');
      list = parts.every((p) => p === '0' || p === '1') ? parts.map(Number) : parts;
    }
  } else if (Array.isArray(v)) {
    list = v;
  } else {
    return fail(`expected a word mask, a list of words or a list of [start, end] spans, got ${describe(v)}`);
  }

  if (list.length === 0) return { mask: words.map(() => 0), spans: [] };
  if (list.every((x) => typeof x === 'number')) {
    const bad = list.findIndex((x) => x !== 0 && x !== 1);
    if (bad >= 0) return fail(`mask entry ${bad + 1} is ${list[bad]}; a mask holds only 0 and 1`);
    if (list.length !== words.length) {
      return fail(`mask has ${list.length} entries but the text has ${words.length} words`);
    }
    const mask = list as number[];
    return { mask, spans: maskToSpans(words, mask) };
  }
  if (list.every((x) => typeof x === 'string')) {
    const r = wordsToMask(words, list as string[]);
    if ('missing' in r) return fail(`rationale word ${JSON.stringify(r.missing)} is not a (remaining) whitespace word of the text`);
    return { mask: r.mask, spans: maskToSpans(words, r.mask) };
  }
  if (list.every((x) => Array.isArray(x) || (x !== null && typeof x === 'object'))) {
    const spans: CharSpan[] = list.map((x, i) => {
      const [start, end] = Array.isArray(x) ? (x.length === 2 ? x : [NaN, NaN]) : [(x as CharSpan).start, (x as CharSpan).end];
      if (typeof start !== 'number' || typeof end !== 'number' || Number.isNaN(start)) {
        return fail(`span ${i + 1} must be [start, end] or {"start": s, "end": e} with numbers`);
      }
      const problem = spanProblem({ start, end }, text.length);
      if (problem) return fail(`span ${i + 1}: ${problem}`);
      return { start, end };
    });
    spans.sort((a, b) => a.start - b.start || a.end - b.end);
    return { mask: spansToMask(words, spans), spans };
  }
  return fail('mixes entry types; expected all numbers (mask), all strings (words) or all [start, end] pairs (spans)');
}
