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
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // current field was quoted (only a separator or line end may follow)
  const n = text.length;
  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    // A completely empty line is not a record (it would be one empty field).
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  while (i < n) {
    const ch = text[i];
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
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRecord();
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
      field += ch;
      i++;
    }
  }
  if (quoted) throw new CsvSyntaxError('a quoted field is not closed before the end of the file', recordLine);
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return records;
}
