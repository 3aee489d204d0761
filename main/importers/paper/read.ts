/**
 * Reader for the published study's per-example files:
 * ../shared/data/paper-responses/sst/<model>[_lrp|_lrp_contrast|_random]/oracle/<seed>/*.jsonl
 *
 * File conventions found in the data (SOURCES.md describes the fields):
 * - line i (0-based) holds `response_<i>` and `normalized_response_<i>`, not `response_0`;
 * - lines are Python `json.dumps` output: some contain bare NaN (Mistral's relevance), so they are
 *   read with `parsePythonJson`;
 * - `true_label` is the integer 1 (positive) or 0 (negative) in these files; the strings "1"/"0" are
 *   accepted too;
 * - `gold_label_rationales` has one 0/1 per `content.split(" ")` word (single spaces, as the paper splits);
 * - `perturbation` is a JSON object here; a Python-literal string is accepted too;
 * - `rationales` / `rationales_checked` exist only for examples that were explained (correct answers);
 * - `relevance_lrp` / `relevance_lrp_contrast` / `relevance_random` cover every token of the chat prompt,
 *   or hold the string "N/T" where relevance was not computed (Llama-2: 12 of 263 lines per file);
 * - the `*_one_over_n.jsonl` files are evaluation outputs (aligned masks), not per-example responses;
 *   `listPaperRunFiles` leaves them out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parsePythonJson, parsePythonLiteral, toPlain } from './pyliteral';
import type { SstLabel } from './answer';

export interface PaperPerturbation {
  tokenIds: number[];
  contextMask: number[];
  testLogit: number[];
  answerTokenId: number;
  seed: number;
  /** Unused by the published evaluation (always null in these files). */
  E: unknown;
}

export interface WordPiece {
  text: string;
  start: number;
  end: number;
}

export interface PaperRecord {
  file: string;
  /** 0-based line index. */
  line: number;
  text: string;
  /** `text.split(' ')` with character offsets (the paper's word unit; may contain "" for double spaces). */
  words: WordPiece[];
  goldLabel: SstLabel;
  goldWordMask: number[];
  response: string;
  /** The authors' stored `normalized_response_<i>` (1 = positive, 0 = negative, null if absent). */
  authorsNormalized: number | string | null;
  annotationRequest: string | null;
  rationales?: string;
  rationalesChecked?: string;
  relevance: { lrp?: number[]; lrpContrast?: number[]; random?: number[] };
  /** Relevance fields present but holding a string instead of numbers (Llama-2 writes "N/T" for 12 of 263), field -> value. */
  relevanceMissing: Record<string, string>;
  perturbation: PaperPerturbation | null;
}

export class PaperFormatError extends Error {
  constructor(file: string, line: number, field: string, detail: string) {
    super(`${file}: line ${line + 1}, field "${field}": ${detail}`);
    this.name = 'PaperFormatError';
  }
}

function splitSpaces(text: string): WordPiece[] {
  const out: WordPiece[] = [];
  let start = 0;
  for (const w of text.split(' ')) {
    out.push({ text: w, start, end: start + w.length });
    start += w.length + 1;
  }
  return out;
}

function numArray(v: unknown, file: string, line: number, field: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new PaperFormatError(file, line, field, 'expected a list of numbers');
  return v as number[];
}

/** A relevance list; a string value (e.g. "N/T": not computed) is recorded in `missing` instead. NaN entries are kept. */
function relevanceField(o: Record<string, unknown>, field: string, file: string, line: number, missing: Record<string, string>): number[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    missing[field] = v;
    return undefined;
  }
  return numArray(v, file, line, field);
}

function readPerturbation(v: unknown, file: string, line: number): PaperPerturbation {
  const o = (typeof v === 'string' ? toPlain(parsePythonLiteral(v, { numpy: true })) : v) as Record<string, unknown>;
  if (!o || typeof o !== 'object') throw new PaperFormatError(file, line, 'perturbation', 'expected a dict');
  const ids = o.tokenized_chat_until_answer;
  const flat = Array.isArray(ids) && Array.isArray(ids[0]) ? ids[0] : ids;
  return {
    tokenIds: numArray(flat, file, line, 'perturbation.tokenized_chat_until_answer'),
    contextMask: numArray(o.context_mask, file, line, 'perturbation.context_mask'),
    testLogit: numArray(o.test_logit, file, line, 'perturbation.test_logit'),
    answerTokenId: Number(o.answer),
    seed: Number(o.seed),
    E: o.E ?? null,
  };
}

/** Parses one file into records; every malformed field is reported with file, line and field. */
export function readPaperFile(file: string): PaperRecord[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: PaperRecord[] = [];
  lines.forEach((raw, line) => {
    if (raw.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = parsePythonJson(raw) as Record<string, unknown>;
    } catch (e) {
      throw new PaperFormatError(file, line, '(line)', `not JSON: ${(e as Error).message}`);
    }
    const text = o.content;
    if (typeof text !== 'string') throw new PaperFormatError(file, line, 'content', 'missing or not a string');
    const tl = o.true_label;
    if (!(tl === 0 || tl === 1 || tl === '0' || tl === '1')) throw new PaperFormatError(file, line, 'true_label', `expected 0/1, got ${JSON.stringify(tl)}`);
    const words = splitSpaces(text);
    const gold = numArray(o.gold_label_rationales, file, line, 'gold_label_rationales');
    if (gold.length !== words.length) {
      throw new PaperFormatError(file, line, 'gold_label_rationales', `${gold.length} values for ${words.length} words`);
    }
    const response = o[`response_${line}`] ?? o.response_0;
    if (typeof response !== 'string') throw new PaperFormatError(file, line, `response_${line}`, 'missing or not a string');
    const norm = o[`normalized_response_${line}`] ?? o.normalized_response_0;
    const missing: Record<string, string> = {};
    const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    out.push({
      file,
      line,
      text,
      words,
      goldLabel: Number(tl) === 1 ? 'positive' : 'negative',
      goldWordMask: gold.map((g) => (g === 1 ? 1 : 0)),
      response,
      authorsNormalized: norm === undefined ? null : (norm as number | string | null),
      annotationRequest: str('annotation_request') ?? null,
      rationales: str('rationales'),
      rationalesChecked: str('rationales_checked'),
      relevance: {
        lrp: relevanceField(o, 'relevance_lrp', file, line, missing),
        lrpContrast: relevanceField(o, 'relevance_lrp_contrast', file, line, missing),
        random: relevanceField(o, 'relevance_random', file, line, missing),
      },
      relevanceMissing: missing,
      perturbation: o.perturbation === undefined ? null : readPerturbation(o.perturbation, file, line),
    });
  });
  return out;
}

/** The per-example response files of one run folder (`*_one_over_n.jsonl` evaluation outputs excluded). */
export function listPaperRunFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl') && !f.includes('one_over_n'))
    .sort()
    .map((f) => path.join(dir, f));
}
