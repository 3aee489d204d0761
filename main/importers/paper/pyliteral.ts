/**
 * A parser for Python literals (what `ast.literal_eval` accepts, plus the corners of `eval` that the
 * published study's files exercise), and a lenient JSON reader for lines written by Python's
 * `json.dumps` (which writes NaN / Infinity).
 *
 * Supported: dict, list, tuple (incl. bare top-level `a, b`), str (single/double/triple quotes,
 * r/u/b prefixes, Python escapes, adjacent-literal concatenation), int (decimal, 0x/0o/0b, `_`),
 * float (incl. `.5`, `5.`, exponents), unary +/-, True/False/None, `#` comments. Optional: numpy-ish
 * wrappers `np.float32(x)`, `numpy.int64(x)`, `array([...])`, `float('nan')`.
 *
 * Anything else (a name like `true`, a call, an operator) is a `PyLiteralError`; where Python's `eval`
 * would raise NameError or SyntaxError we raise this one error, because the paper's code catches the
 * two together.
 */

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export type PyKey = string | number | boolean | null;

export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  get(k: PyKey): PyValue | undefined {
    return this.map.get(normKey(k));
  }
  has(k: PyKey): boolean {
    return this.map.has(normKey(k));
  }
  set(k: PyKey, v: PyValue): void {
    this.map.set(normKey(k), v);
  }
  keys(): PyKey[] {
    return [...this.map.keys()];
  }
}

// Python: True == 1 and hash(True) == hash(1), so they are the same dict key.
function normKey(k: PyKey): PyKey {
  return k === true ? 1 : k === false ? 0 : k;
}

export type PyValue = null | boolean | number | string | PyValue[] | PyTuple | PyDict;

export class PyLiteralError extends Error {
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`${detail} at offset ${offset}`);
    this.name = 'PyLiteralError';
  }
}

export interface PyLiteralOptions {
  /** Accept JSON spellings true/false/null and NaN/Infinity (for json.dumps output). Default false. */
  json?: boolean;
  /** Accept numpy-ish wrappers and float('nan'|'inf'). Default false (Python's eval without numpy imported). */
  numpy?: boolean;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly s: string,
    private readonly opts: PyLiteralOptions,
  ) {}

  fail(msg: string, at = this.i): never {
    throw new PyLiteralError(msg, at);
  }

  /** Skips spaces, tabs, comments; newlines only inside brackets (Python's implicit line joining). */
  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\r') this.i++;
      else if (c === '\n' && this.depth > 0) this.i++;
      else if (c === '\\' && s[this.i + 1] === '\n') this.i += 2;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else break;
    }
  }

  parseTop(): PyValue {
    const s = this.s;
    // eval() strips leading spaces/tabs; leading blank lines are fine, an indented first line is not.
    while (s[this.i] === ' ' || s[this.i] === '\t') this.i++;
    for (;;) {
      const lineStart = this.i;
      let j = this.i;
      while (s[j] === ' ' || s[j] === '\t' || s[j] === '\r' || s[j] === '\f') j++;
      if (s[j] === '#') while (j < s.length && s[j] !== '\n') j++;
      if (s[j] === '\n') {
        this.i = j + 1;
        continue;
      }
      if (j > lineStart && lineStart > 0) this.fail('unexpected indent', lineStart);
      this.i = j;
      break;
    }
    const first = this.expr();
    this.ws();
    let value: PyValue = first;
    if (this.s[this.i] === ',') {
      const items = [first];
      while (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.atEnd()) break;
        items.push(this.expr());
        this.ws();
      }
      value = new PyTuple(items);
    }
    this.ws();
    while (this.s[this.i] === '\n') {
      this.i++;
      this.ws();
    }
    if (this.i < this.s.length) this.fail('invalid syntax');
    return value;
  }

  private atEnd(): boolean {
    let j = this.i;
    while (j < this.s.length && /\s/.test(this.s[j])) j++;
    return j >= this.s.length;
  }

  private expr(): PyValue {
    this.ws();
    const s = this.s;
    const c = s[this.i];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '[') return this.seq(']', 'list');
    if (c === '(') return this.seq(')', 'tuple');
    if (c === '{') return this.dict();
    if (c === '-' || c === '+') {
      this.i++;
      const v = this.expr();
      if (typeof v === 'number') return c === '-' ? -v : v;
      if (typeof v === 'boolean') return c === '-' ? -Number(v) : Number(v);
      this.fail('bad operand type for unary ' + c);
    }
    if (c === '"' || c === "'") return this.strings();
    if (/[0-9.]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c)) return this.name();
    this.fail(`invalid character ${JSON.stringify(c)}`);
  }

  private seq(close: string, kind: 'list' | 'tuple'): PyValue {
    const open = this.i;
    this.i++;
    this.depth++;
    const items: PyValue[] = [];
    let sawComma = false;
    this.ws();
    while (this.s[this.i] !== close) {
      if (this.i >= this.s.length) this.fail(`'${this.s[open]}' was never closed`, open);
      items.push(this.expr());
      this.ws();
      if (this.s[this.i] === ',') {
        sawComma = true;
        this.i++;
        this.ws();
      } else if (this.s[this.i] !== close) {
        if (this.i >= this.s.length) this.fail(`'${this.s[open]}' was never closed`, open);
        this.fail('invalid syntax');
      }
    }
    this.i++;
    this.depth--;
    if (kind === 'list') return items;
    // (x) is just x; (x,) and () are tuples
    if (items.length === 1 && !sawComma) return items[0];
    return new PyTuple(items);
  }

  private dict(): PyDict {
    const open = this.i;
    this.i++;
    this.depth++;
    const d = new PyDict();
    this.ws();
    while (this.s[this.i] !== '}') {
      if (this.i >= this.s.length) this.fail(`'{' was never closed`, open);
      const keyAt = this.i;
      const k = this.expr();
      if (k !== null && typeof k === 'object') this.fail('unhashable dict key', keyAt);
      this.ws();
      if (this.s[this.i] !== ':') {
        if (this.i >= this.s.length) this.fail(`'{' was never closed`, open);
        this.fail("expected ':'");
      }
      this.i++;
      const v = this.expr();
      d.set(k as PyKey, v);
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws();
      } else if (this.s[this.i] !== '}') {
        if (this.i >= this.s.length) this.fail(`'{' was never closed`, open);
        this.fail('invalid syntax');
      }
    }
    this.i++;
    this.depth--;
    return d;
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.i;
      this.ws();
      const c = this.s[this.i];
      const prefixed = /[rRuU]/.test(c ?? '') && (this.s[this.i + 1] === '"' || this.s[this.i + 1] === "'");
      if (c === '"' || c === "'" || prefixed) out += this.string();
      else {
        this.i = save;
        return out;
      }
    }
  }

  private string(raw = false): string {
    const s = this.s;
    if (/[rR]/.test(s[this.i])) {
      raw = true;
      this.i++;
    } else if (/[uU]/.test(s[this.i])) this.i++;
    const start = this.i;
    const q = s[this.i];
    const triple = s.startsWith(q.repeat(3), this.i);
    this.i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string literal', start);
      const c = s[this.i];
      if (triple ? s.startsWith(q.repeat(3), this.i) : c === q) {
        this.i += triple ? 3 : 1;
        return out;
      }
      if (c === '\n' && !triple) this.fail('unterminated string literal', start);
      if (c === '\\') {
        const n = s[this.i + 1];
        if (n === undefined) this.fail('unterminated string literal', start);
        if (raw) {
          out += c + n;
          this.i += 2;
          continue;
        }
        this.i += 2;
        switch (n) {
          case '\n':
            break;
          case '\\':
          case "'":
          case '"':
            out += n;
            break;
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'a':
            out += '\x07';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'v':
            out += '\v';
            break;
          case 'x':
          case 'u':
          case 'U': {
            const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
            const hex = s.slice(this.i, this.i + len);
            if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`truncated \\${n} escape`, this.i - 2);
            out += String.fromCodePoint(parseInt(hex, 16));
            this.i += len;
            break;
          }
          default:
            if (/[0-7]/.test(n)) {
              let oct = n;
              while (oct.length < 3 && /[0-7]/.test(s[this.i] ?? '')) oct += s[this.i++];
              out += String.fromCharCode(parseInt(oct, 8));
            } else out += '\\' + n; // Python keeps unknown escapes verbatim
        }
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private number(): number {
    const s = this.s;
    const m = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d*[\d_]*(?:[eE][+-]?\d+)?)/.exec(s.slice(this.i));
    const text = m ? m[0] : '';
    if (!text || text === '.') this.fail('invalid syntax');
    this.i += text.length;
    if (/[A-Za-z_]/.test(s[this.i] ?? '')) this.fail('invalid decimal literal');
    const clean = text.replace(/_/g, '');
    if (/^0[xX]/.test(clean)) return parseInt(clean.slice(2), 16);
    if (/^0[oO]/.test(clean)) return parseInt(clean.slice(2), 8);
    if (/^0[bB]/.test(clean)) return parseInt(clean.slice(2), 2);
    const v = Number(clean);
    if (Number.isNaN(v)) this.fail('invalid number');
    return v;
  }

  private name(): PyValue {
    const s = this.s;
    const at = this.i;
    const m = /^[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*/.exec(s.slice(this.i))!;
    const id = m[0];
    // a string prefix such as r'..' or u".."
    if (/^[rRuU]$/.test(id) && (s[this.i + 1] === '"' || s[this.i + 1] === "'")) return this.strings();
    this.i += id.length;
    if (id === 'True') return true;
    if (id === 'False') return false;
    if (id === 'None') return null;
    if (this.opts.json) {
      if (id === 'true') return true;
      if (id === 'false') return false;
      if (id === 'null') return null;
      if (id === 'NaN') return Number.NaN;
      if (id === 'Infinity') return Number.POSITIVE_INFINITY;
    }
    if (this.opts.numpy) {
      this.ws();
      if (s[this.i] === '(') {
        const wrappers = /^(?:np\.|numpy\.)?(?:float16|float32|float64|float_|int8|int16|int32|int64|int_|bool_|array|asarray)$/;
        if (id === 'float' || wrappers.test(id)) {
          this.i++;
          this.depth++;
          const v = this.expr();
          this.ws();
          // array(..., dtype=float32)
          while (s[this.i] === ',') {
            this.i++;
            this.ws();
            if (s[this.i] === ')') break;
            if (!/^dtype\s*=/.test(s.slice(this.i))) this.fail('unsupported call argument');
            this.i = s.indexOf('=', this.i) + 1;
            this.ws();
            const dt = /^[A-Za-z_][\w.]*/.exec(s.slice(this.i));
            if (!dt) this.fail('invalid dtype');
            this.i += dt[0].length;
            this.ws();
          }
          if (s[this.i] !== ')') this.fail(`'(' was never closed`, at);
          this.i++;
          this.depth--;
          if (id === 'float' && typeof v === 'string') {
            const f = v.trim().toLowerCase();
            if (f === 'nan') return Number.NaN;
            if (f === 'inf' || f === 'infinity' || f === '+inf') return Number.POSITIVE_INFINITY;
            if (f === '-inf' || f === '-infinity') return Number.NEGATIVE_INFINITY;
            const n = Number(f);
            if (Number.isNaN(n)) this.fail(`could not convert string to float: ${JSON.stringify(v)}`, at);
            return n;
          }
          return v;
        }
      }
      if (id === 'nan' || id === 'np.nan' || id === 'numpy.nan') return Number.NaN;
      if (id === 'inf' || id === 'np.inf' || id === 'numpy.inf') return Number.POSITIVE_INFINITY;
    }
    this.fail(`name '${id}' is not defined`, at);
  }
}

/** Parses a Python literal; throws `PyLiteralError` where Python's eval would raise SyntaxError/NameError. */
export function parsePythonLiteral(src: string, opts: PyLiteralOptions = {}): PyValue {
  return new Parser(src, opts).parseTop();
}

/** Converts to plain JS (dict -> object with string keys, tuple -> array), for JSON-like use. */
export function toPlain(v: PyValue): unknown {
  if (v instanceof PyTuple) return v.items.map(toPlain);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof PyDict) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v.map) o[String(k)] = toPlain(val);
    return o;
  }
  return v;
}

/**
 * Parses one line written by Python's `json.dumps`: standard JSON, except NaN/Infinity/-Infinity may
 * appear as bare values. Tries `JSON.parse` first (fast path).
 */
export function parsePythonJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return toPlain(parsePythonLiteral(line, { json: true }));
  }
}
