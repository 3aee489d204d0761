import path from 'node:path';
import { alignTokens } from './align';
import { normaliseId } from './labels';
import type { SourceFile } from './source';
import { DatasetError, type ParsedExample, type RationaleSpan } from './types';
import { columnName, readXlsx, XlsxError, type XlsxRow, type XlsxSheet } from './xlsx';
import { splitWords } from './words';

/**
 * mSST spreadsheets (Jørgensen et al. 2022): one sheet with columns ID, Sentence, Span, Rank,
 * Tokens (Danish/Italian add Original, the English sentence). Fully blank rows are skipped.
 *
 * `Span` lists the sentence's tokens as `token(0|1)` joined by `|`. In the English file the tokens
 * are exactly the sentence's whitespace words. In the Danish and Italian files the sentences are
 * ordinary prose ("En varm, sjov, engagerende film.") while the tokens split punctuation off
 * ("varm", ",", ...), so tokens are aligned to the sentence characters (align.ts) and:
 *   - a whitespace word is a rationale word when any of its tokens is marked 1;
 *   - each marked token becomes one character span covering exactly that token's characters
 *     (so "varm," yields the span "varm", not the comma);
 *   - a word's importance rank (meta.wordRanks) is the best (smallest non-zero) rank of its tokens.
 * Three source rows have small token/sentence differences (DK 229 drops a full stop, DK 610 uses
 * back-ticks in the sentence, IT 670 fixes a typo only in the tokens); the minimum-edit alignment
 * handles them and the example records `meta.alignmentEdits`. Rows needing more than
 * MAX_EDIT_FRACTION edits are refused as misaligned.
 *
 * The tokens themselves, with their offsets, values and ranks, are kept in `meta.spanTokens`.
 */

export interface MsstOptions {
  language?: string;
}

const MAX_EDIT_FRACTION = 0.05;
const LANG_CODES: Record<string, string> = { EN: 'en', DK: 'da', DA: 'da', IT: 'it' };

interface SpanToken {
  text: string;
  value: number;
}

export interface MsstResult {
  language: string;
  sheet: string;
  examples: ParsedExample[];
}

export function parseMsst(src: SourceFile, opts: MsstOptions): MsstResult {
  let sheets: XlsxSheet[];
  try {
    sheets = readXlsx(src.bytes);
  } catch (e) {
    if (e instanceof XlsxError) throw new DatasetError(src.file, e.message);
    throw e;
  }
  const cellText = (r: XlsxRow, col: number) => r.cells[col]?.value ?? '';
  const isBlank = (r: XlsxRow) => r.cells.every((c) => c === undefined || c.value.trim() === '');

  // The data sheet is the first whose header row has the required columns.
  let chosen: { sheet: XlsxSheet; header: Map<string, number>; headerRow: number } | undefined;
  let firstProblem = '';
  for (const sheet of sheets) {
    const headerRow = sheet.rows.find((r) => !isBlank(r));
    if (!headerRow) {
      firstProblem ||= `sheet "${sheet.name}" is empty`;
      continue;
    }
    const header = new Map<string, number>();
    headerRow.cells.forEach((c, i) => c && header.set(c.value.trim(), i));
    const missing = ['ID', 'Sentence', 'Span'].filter((c) => !header.has(c));
    if (missing.length === 0) {
      chosen = { sheet, header, headerRow: headerRow.row };
      break;
    }
    firstProblem ||= `sheet "${sheet.name}", row ${headerRow.row}: missing column "${missing[0]}" (the header has: ${[...header.keys()].map((h) => JSON.stringify(h)).join(', ')})`;
  }
  if (!chosen) throw new DatasetError(src.file, firstProblem);
  const { sheet, header } = chosen;

  const language = opts.language ?? languageOf(sheet.name, src.file);
  if (!language) {
    throw new DatasetError(src.file, `cannot tell the language from the sheet name "${sheet.name}" or the file name; pass --language`);
  }

  const col = (name: string) => header.get(name);
  const examples: ParsedExample[] = [];
  const ids = new Map<string, number>();
  for (const r of sheet.rows) {
    if (r.row <= chosen.headerRow || isBlank(r)) continue;
    const fail = (field: string, detail: string): never => {
      throw new DatasetError(src.file, detail, r.row, field);
    };
    const get = (name: string, required: boolean): string | undefined => {
      const c = col(name);
      const cell = c === undefined ? undefined : r.cells[c];
      if (cell === undefined || cell.value === '') {
        if (required) fail(name, `is empty (cell ${columnName(c ?? 0)}${r.row})`);
        return undefined;
      }
      return cellText(r, c!);
    };
    const rawId = get('ID', true)!;
    const externalId = normaliseId(rawId);
    const prev = ids.get(externalId);
    if (prev !== undefined) fail('ID', `duplicate ID ${externalId} (also on row ${prev})`);
    ids.set(externalId, r.row);
    const text = get('Sentence', true)!;
    const spanTokens = parseTokenList(get('Span', true)!, (d) => fail('Span', d));
    const bad = spanTokens.findIndex((t) => t.value !== 0 && t.value !== 1);
    if (bad >= 0) fail('Span', `token ${bad + 1} ${JSON.stringify(spanTokens[bad].text)} has value ${spanTokens[bad].value}; expected 0 or 1`);

    let ranks: number[] | null = null;
    const rankRaw = get('Rank', false);
    if (rankRaw !== undefined) {
      const rankTokens = parseTokenList(rankRaw, (d) => fail('Rank', d));
      const same = rankTokens.length === spanTokens.length && rankTokens.every((t, i) => t.text === spanTokens[i].text);
      if (!same) fail('Rank', `lists ${rankTokens.length} tokens that differ from the ${spanTokens.length} tokens of Span`);
      ranks = rankTokens.map((t) => t.value);
    }

    const words = splitWords(text);
    const { offsets, edits } = alignTokens(text, spanTokens.map((t) => t.text));
    const nonWs = text.replace(/\s/g, '').length;
    if (edits > Math.max(3, Math.ceil(MAX_EDIT_FRACTION * nonWs))) {
      fail('Span', `the tokens do not match the sentence (${edits} character edits needed to align them)`);
    }
    const mask = words.map(() => 0);
    const wordRanks = words.map(() => 0);
    const spans: RationaleSpan[] = [];
    spanTokens.forEach((t, ti) => {
      const off = offsets[ti];
      if (off === null) {
        if (t.value === 1) fail('Span', `rationale token ${ti + 1} ${JSON.stringify(t.text)} does not occur in the sentence`);
        return;
      }
      if (t.value === 1) spans.push({ start: off.start, end: off.end });
      words.forEach((w, wi) => {
        if (off.start < w.end && off.end > w.start) {
          if (t.value === 1) mask[wi] = 1;
          const rk = ranks?.[ti] ?? 0;
          if (rk > 0 && (wordRanks[wi] === 0 || rk < wordRanks[wi])) wordRanks[wi] = rk;
        }
      });
    });

    const meta: Record<string, unknown> = {
      sheet: sheet.name,
      spanTokens: spanTokens.map((t, ti) => ({
        text: t.text,
        start: offsets[ti]?.start ?? null,
        end: offsets[ti]?.end ?? null,
        rationale: t.value,
        ...(ranks ? { rank: ranks[ti] } : {}),
      })),
    };
    if (ranks) meta.wordRanks = wordRanks;
    if (edits > 0) meta.alignmentEdits = edits;
    const original = get('Original', false);
    if (original !== undefined) meta.original = original;

    examples.push({
      externalId,
      text,
      language,
      labels: [],
      words,
      rationaleMask: mask,
      rationaleSpans: spans,
      meta,
    });
  }
  if (examples.length === 0) throw new DatasetError(src.file, `sheet "${sheet.name}" has a header but no rows`);
  return { language, sheet: sheet.name, examples };
}

function languageOf(sheetName: string, file: string): string | undefined {
  const fromSheet = /^([A-Za-z]{2})[_\s-]/.exec(sheetName)?.[1].toUpperCase();
  if (fromSheet && LANG_CODES[fromSheet]) return LANG_CODES[fromSheet];
  const fromFile = /[_-]([A-Za-z]{2})$/.exec(path.basename(file).replace(/\.[^.]+$/, ''))?.[1].toUpperCase();
  return fromFile ? LANG_CODES[fromFile] : undefined;
}

/** "It(0)|'s(0)|lovely(1)" -> tokens with values; a token may itself contain "(" or ")" (e.g. "((0)"),
 * and may be empty (IT row 178 starts "(0)|La(0)"). */
export function parseTokenList(s: string, fail: (d: string) => never): SpanToken[] {
  const out: SpanToken[] = [];
  const re = /([^]*?)\((\d+)\)(\||$)/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return fail(`cannot read token ${out.length + 1} at ${JSON.stringify(s.slice(i, i + 30))}; expected token(value) separated by "|"`);
    out.push({ text: m[1], value: Number(m[2]) });
    i = re.lastIndex;
    if (m[3] === '|' && i === s.length) return fail('ends with "|"');
  }
  if (out.length === 0) fail('lists no tokens');
  return out;
}
