/**
 * RFC 4180 CSV parsing: comma-separated fields, fields optionally quoted with `"`, `""` inside a
 * quoted field is a literal quote, quoted fields may span lines; CRLF or LF line ends. Field
 * content is returned exactly as written (no trimming), so quoted text keeps its spaces.
 */

export interface CsvRecord {
  /** 1-based line number where the record starts (the header is line 1 in a file without blank lines). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export function parseCsv(text: string): CsvRecord[] {
  return [...csvRecords([text])];
}

/**
 * The records of a CSV text given in pieces (any split, even inside a field or a CRLF), one at a
 * time: a large file is parsed without holding its text or its records whole.
 */
export function* csvRecords(pieces: Iterable<string>): Generator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // current field was quoted (only a separator or line end may follow)
  let carry = ''; // a final '"' or '\r' of a piece, scanned with the next piece
  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = (): CsvRecord | null => {
    endField();
    const r = fields;
    fields = [];
    // A completely empty line is not a record (it would be one empty field).
    return r.length === 1 && r[0] === '' ? null : { line: recordLine, fields: r };
  };
  /** Scans `text`; when not `final`, stops before a '"' or '\r' ending it and returns what is left. */
  function* scan(text: string, final: boolean): Generator<CsvRecord, string> {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const ch = text[i];
      // A '"' in a quoted field and a '\r' mean different things depending on the next character.
      if (!final && i === n - 1 && (ch === '\r' || (ch === '"' && quoted))) return text.slice(i);
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          wasQuoted = true;
          i++;
          continue;
        }
        // Copy the run up to the next quote or line end at once (long quoted texts).
        let j = i;
        while (j < n && text[j] !== '"' && text[j] !== '\n') j++;
        if (j > i) {
          field += text.slice(i, j);
          i = j;
          continue;
        }
        line++; // ch === '\n'
        field += ch;
        i++;
        continue;
      }
      if (ch === ',') {
        endField();
        i++;
      } else if (ch === '\r' || ch === '\n') {
        const r = endRecord();
        if (r) yield r;
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        recordLine = line;
      } else if (wasQuoted) {
        throw new CsvSyntaxError(`unexpected character ${JSON.stringify(ch)} after a closing quote`, line);
      } else if (ch === '"') {
        if (field !== '') throw new CsvSyntaxError('a quote inside an unquoted field (quote the whole field and double the inner quotes)', line);
        quoted = true;
        i++;
      } else {
        let j = i + 1;
        while (j < n && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n' && text[j] !== '"') j++;
        field += text.slice(i, j);
        i = j;
      }
    }
    return '';
  }
  for (const piece of pieces) carry = yield* scan(carry + piece, false);
  yield* scan(carry, true);
  if (quoted) throw new CsvSyntaxError('a quoted field is not closed before the end of the file', recordLine);
  if (field !== '' || fields.length > 0 || wasQuoted) {
    const r = endRecord();
    if (r) yield r;
  }
}
