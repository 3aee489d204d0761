import { readEntry, zipEntries, ZipError, type ZipEntry } from './zip';
import { childElements, firstChild, localName, parseXml, textContent, XmlError, type XmlElement } from './xml';

/**
 * A minimal .xlsx (Office Open XML spreadsheet) reader: enough to read cell values of plain data
 * sheets such as the mSST files. It reads shared strings (including rich-text runs), inline
 * strings, formula string results, numbers and booleans. Cell styles, dates and formulas are not
 * interpreted: numbers come back as the text written in the file (e.g. "0.0").
 */

export interface XlsxCell {
  /** Cell reference, e.g. "B7". */
  ref: string;
  /** Value as text; shared/inline strings exactly as stored (entities decoded, nothing trimmed). */
  value: string;
  type: 'string' | 'number' | 'boolean' | 'error';
}

export interface XlsxRow {
  /** 1-based row number as in the sheet (the `r` attribute). */
  row: number;
  /** Cells by 0-based column index (A = 0); absent cells are undefined. */
  cells: (XlsxCell | undefined)[];
}

export interface XlsxSheet {
  name: string;
  rows: XlsxRow[];
}

export class XlsxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XlsxError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The largest part (zip entry) of an .xlsx that is read: 64 MiB uncompressed, checked against both
 * the size the archive declares and the bytes actually inflated. A sheet of the mSST files is
 * 50–130 KB; a part this large would be a zip bomb, or a workbook far beyond what a dataset needs.
 */
export const MAX_XLSX_PART_BYTES = 64 * 2 ** 20;

/**
 * Reads every sheet's cells. Only the parts that hold them are inflated (the workbook, its
 * relationships, the shared strings and the sheets); styles, themes, drawings and anything else in
 * the archive are never decompressed.
 */
export function readXlsx(bytes: Uint8Array, limit: number = MAX_XLSX_PART_BYTES): XlsxSheet[] {
  let files: Map<string, ZipEntry>;
  try {
    files = zipEntries(bytes);
  } catch (e) {
    throw new XlsxError(`not a readable .xlsx (zip) file: ${(e as Error).message}`);
  }
  const part = (name: string): XmlElement | undefined => {
    const entry = files.get(name);
    if (entry === undefined) return undefined;
    let data: Uint8Array;
    try {
      data = readEntry(bytes, entry, limit);
    } catch (e) {
      if (e instanceof ZipError) throw new XlsxError(e.message);
      throw e;
    }
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      throw new XlsxError(`part ${name} is not valid UTF-8`);
    }
    try {
      return parseXml(text);
    } catch (e) {
      throw new XlsxError(`part ${name} is not well-formed XML: ${(e as XmlError).message}`);
    }
  };

  const workbook = part('xl/workbook.xml');
  if (!workbook) throw new XlsxError('not an .xlsx workbook (xl/workbook.xml is missing)');
  const rels = part('xl/_rels/workbook.xml.rels');
  const targets = new Map<string, string>();
  for (const r of rels ? childElements(rels, 'Relationship') : []) {
    const target = r.attrs.Target ?? '';
    targets.set(r.attrs.Id ?? '', target.startsWith('/') ? target.slice(1) : `xl/${target}`);
  }
  const shared = readSharedStrings(part('xl/sharedStrings.xml'));

  const sheetsEl = firstChild(workbook, 'sheets');
  const sheets: XlsxSheet[] = [];
  for (const [idx, s] of (sheetsEl ? childElements(sheetsEl, 'sheet') : []).entries()) {
    const rid = Object.entries(s.attrs).find(([k]) => localName(k) === 'id' && k !== 'sheetId')?.[1];
    const target = (rid && targets.get(rid)) ?? `xl/worksheets/sheet${idx + 1}.xml`;
    const sheetXml = part(normalisePath(target));
    if (!sheetXml) throw new XlsxError(`sheet "${s.attrs.name}" is missing its part ${target}`);
    sheets.push({ name: s.attrs.name ?? `Sheet${idx + 1}`, rows: readSheetRows(sheetXml, shared) });
  }
  if (sheets.length === 0) throw new XlsxError('the workbook has no sheets');
  return sheets;
}

function normalisePath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '..') out.pop();
    else if (seg !== '.' && seg !== '') out.push(seg);
  }
  return out.join('/');
}

/** Text of a string item (<si> or <is>): its <t>, or the <t> of each rich-text run <r>; phonetic runs (<rPh>) are skipped. */
function stringItemText(si: XmlElement): string {
  let s = '';
  for (const c of si.children) {
    if (typeof c === 'string') continue;
    const ln = localName(c.name);
    if (ln === 't') s += textContent(c);
    else if (ln === 'r') for (const t of childElements(c, 't')) s += textContent(t);
  }
  return s;
}

function readSharedStrings(sst: XmlElement | undefined): string[] {
  return sst ? childElements(sst, 'si').map(stringItemText) : [];
}

function columnIndex(ref: string): number {
  const m = /^([A-Z]+)\d*$/.exec(ref);
  if (!m) throw new XlsxError(`bad cell reference "${ref}"`);
  let n = 0;
  for (const ch of m[1]) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

export function columnName(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function readSheetRows(sheet: XmlElement, shared: string[]): XlsxRow[] {
  const data = firstChild(sheet, 'sheetData');
  if (!data) throw new XlsxError('a worksheet has no sheetData');
  const rows: XlsxRow[] = [];
  let lastRow = 0;
  for (const r of childElements(data, 'row')) {
    const rowNum = r.attrs.r !== undefined ? Number(r.attrs.r) : lastRow + 1;
    if (!Number.isInteger(rowNum) || rowNum < 1) throw new XlsxError(`bad row number "${r.attrs.r}"`);
    lastRow = rowNum;
    const cells: (XlsxCell | undefined)[] = [];
    let lastCol = -1;
    for (const c of childElements(r, 'c')) {
      const col = c.attrs.r !== undefined ? columnIndex(c.attrs.r.replace(/\d+$/, '')) : lastCol + 1;
      lastCol = col;
      const ref = c.attrs.r ?? `${columnName(col)}${rowNum}`;
      const t = c.attrs.t ?? 'n';
      const v = firstChild(c, 'v');
      let cell: XlsxCell | undefined;
      if (t === 'inlineStr') {
        const is = firstChild(c, 'is');
        cell = is ? { ref, value: stringItemText(is), type: 'string' } : undefined;
      } else if (v !== undefined) {
        const raw = textContent(v);
        if (t === 's') {
          const idx = Number(raw);
          if (!Number.isInteger(idx) || idx < 0 || idx >= shared.length) {
            throw new XlsxError(`cell ${ref} refers to shared string ${raw}, but there are ${shared.length}`);
          }
          cell = { ref, value: shared[idx], type: 'string' };
        } else if (t === 'str') cell = { ref, value: raw, type: 'string' };
        else if (t === 'b') cell = { ref, value: raw === '1' ? 'TRUE' : 'FALSE', type: 'boolean' };
        else if (t === 'e') cell = { ref, value: raw, type: 'error' };
        else cell = { ref, value: raw, type: 'number' };
      }
      cells[col] = cell;
    }
    rows.push({ row: rowNum, cells });
  }
  return rows;
}
