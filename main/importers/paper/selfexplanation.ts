/**
 * Reading the self-explanation fields (`rationales`, `rationales_checked`) of the published files.
 *
 * `paperItems` replays the reference evaluation's control flow (model_human_comparison.py) so that
 * the same examples are kept and skipped:
 *  1. field = `rationales_checked` if present, else `rationales`;
 *  2. if it does not parse as a Python literal, "fix" it: keep from the first '[' to the last ']'
 *     inclusive, or from the first '[' to the end plus ']' when there is no ']'. (With Python >= 3.10
 *     error messages, every failure in these files takes this generic branch of `fix_syntax`);
 *  3. if the fixed text still does not parse, fall back to the raw `rationales` field, unfixed;
 *     a top-level dict is wrapped in a list (only for the field of step 1);
 *  4. iterate the value; a string element is parsed again as a literal; keys `rationals`, `rationale`,
 *     `?rationale` are renamed to `rationales`; a `rationales` value that is a string is one item,
 *     a list gives one item per element (a dict element contributes its `text`); any other value is
 *     counted in the paper's `skip` counter and ignored;
 *  5. an element without a `rationales` key re-uses the previous element's value: the reference code
 *     reads a stale variable (`extracted`), which persists across examples. `PaperState` carries it;
 *  6. any exception (SyntaxError, NameError, KeyError, TypeError, IndexError) skips the whole example
 *     and counts once in `skip`.
 */
import { parsePythonLiteral, PyDict, PyTuple, type PyValue, type PyKey } from './pyliteral';

export interface PaperState {
  /** The reference code's stale `extracted` variable (undefined until first set). */
  lastExtracted?: PyValue;
}

export type PaperItemsResult =
  | { ok: true; items: string[]; itemSkips: number; field: 'rationales' | 'rationales_checked'; fixed: boolean }
  | { ok: false; reason: string; itemSkips: number };

class PyError extends Error {
  constructor(
    readonly kind: 'SyntaxError' | 'TypeError' | 'KeyError' | 'Crash',
    msg: string,
  ) {
    super(`${kind}: ${msg}`);
  }
}

function pyEval(src: string): PyValue {
  try {
    return parsePythonLiteral(src);
  } catch (e) {
    throw new PyError('SyntaxError', (e as Error).message);
  }
}

function parses(src: string): boolean {
  try {
    parsePythonLiteral(src);
    return true;
  } catch {
    return false;
  }
}

/** Python's `s[a:b+1]` with a = s.find('['), b = s.rfind(']') (negative -1 start is the last char). */
export function paperFixSyntax(s: string): string {
  const a = s.indexOf('[');
  const b = s.lastIndexOf(']');
  const start = a === -1 ? Math.max(s.length - 1, 0) : a;
  if (b === -1) return s.slice(start) + ']';
  return b + 1 <= start ? '' : s.slice(start, b + 1);
}

/** Python iteration over a value. */
function pyIter(v: PyValue): PyValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  if (v instanceof PyDict) return v.keys() as PyValue[];
  if (typeof v === 'string') return [...v];
  throw new PyError('TypeError', `'${typeName(v)}' object is not iterable`);
}

function typeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  return 'dict';
}

function pyEq(a: PyValue, b: PyValue): boolean {
  return a === b;
}

/** Python `key in container`. */
function pyIn(key: string, c: PyValue): boolean {
  if (c instanceof PyDict) return c.has(key);
  if (Array.isArray(c)) return c.some((x) => pyEq(x, key));
  if (c instanceof PyTuple) return c.items.some((x) => pyEq(x, key));
  if (typeof c === 'string') return c.includes(key);
  throw new PyError('TypeError', `argument of type '${typeName(c)}' is not iterable`);
}

function pyGet(c: PyValue, key: string): PyValue {
  if (c instanceof PyDict) {
    if (!c.has(key)) throw new PyError('KeyError', `'${key}'`);
    return c.get(key as PyKey)!;
  }
  throw new PyError('TypeError', `${typeName(c)} indices must be integers`);
}

function pySet(c: PyValue, key: string, v: PyValue): void {
  if (c instanceof PyDict) c.set(key, v);
  else throw new PyError('TypeError', `'${typeName(c)}' object does not support item assignment`);
}

/**
 * The string `check_fuzzy_substring`/`normalized_text` would see: a str, or a one-element list of str
 * (`normalized_text` unwraps those). Anything else would raise AttributeError there, which the
 * reference code does not catch (the run would crash); we report it as a skip with reason 'crash'.
 */
function asMatchString(v: PyValue | undefined): string {
  if (v === undefined) throw new PyError('Crash', "NameError: name 'extracted' is not defined");
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  throw new PyError('Crash', `AttributeError: '${typeName(v)}' object has no attribute 'lower'`);
}

export function paperItems(
  fields: { rationales?: string; rationales_checked?: string },
  state: PaperState,
): PaperItemsResult {
  let field: 'rationales' | 'rationales_checked' = fields.rationales_checked !== undefined ? 'rationales_checked' : 'rationales';
  let src = fields[field];
  if (src === undefined) return { ok: false, reason: 'no-self-explanation', itemSkips: 0 };
  let fixed = false;
  if (!parses(src)) {
    src = paperFixSyntax(src);
    fixed = true;
  }
  if (parses(src)) {
    if (pyEval(src) instanceof PyDict) src = '[' + src + ']';
  } else {
    field = 'rationales';
    src = fields.rationales;
  }
  let itemSkips = 0;
  const items: string[] = [];
  try {
    if (src === undefined) throw new PyError('KeyError', "'rationales'");
    for (let rat of pyIter(pyEval(src))) {
      if (typeof rat === 'string') rat = pyEval(rat);
      if (pyIn('rationals', rat)) pySet(rat, 'rationales', pyGet(rat, 'rationals'));
      else if (pyIn('rationale', rat)) pySet(rat, 'rationales', pyGet(rat, 'rationale'));
      else if (pyIn('?rationale', rat)) pySet(rat, 'rationales', pyGet(rat, '?rationale'));
      if (!pyIn('rationales', rat)) {
        items.push(asMatchString(state.lastExtracted));
        continue;
      }
      const extracted = pyGet(rat, 'rationales');
      state.lastExtracted = extracted;
      if (Array.isArray(extracted)) {
        for (let it of extracted) {
          if (typeof it !== 'string') it = pyGet(it, 'text');
          items.push(asMatchString(it));
        }
      } else if (typeof extracted === 'string') {
        items.push(extracted);
      } else {
        itemSkips++;
      }
    }
  } catch (e) {
    if (e instanceof PyError) {
      return { ok: false, reason: e.kind === 'Crash' ? `crash: ${e.message}` : e.kind, itemSkips: itemSkips + (e.kind === 'Crash' ? 0 : 1) };
    }
    throw e;
  }
  return { ok: true, items, itemSkips, field, fixed };
}

// ---------------------------------------------------------------------------------------------
// robust extraction

const RATIONALE_KEY = /^\??rational/i;

function collectStrings(v: PyValue, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (v instanceof PyTuple) v.items.forEach((x) => collectStrings(x, out));
  else if (v instanceof PyDict) {
    const t = v.get('text');
    if (typeof t === 'string') out.push(t);
  }
}

function collectItems(v: PyValue, out: string[]): void {
  if (Array.isArray(v)) v.forEach((x) => collectItems(x, out));
  else if (v instanceof PyTuple) v.items.forEach((x) => collectItems(x, out));
  else if (v instanceof PyDict) {
    for (const k of v.keys()) if (typeof k === 'string' && RATIONALE_KEY.test(k)) collectStrings(v.get(k)!, out);
  } else if (typeof v === 'string') out.push(v);
}

export interface RobustItems {
  items: string[];
  /** How the items were obtained. */
  source: 'rationales_checked' | 'rationales' | 'scan' | 'none';
}

/**
 * Lenient extraction: parse `rationales_checked`, else `rationales`, as JSON/Python (whole text, then
 * the first '[' .. last ']' slice); take the string values of every key starting with "rational"
 * (also misspellings like "rationals", "?rationale"). When nothing parses, scan the raw text for
 * `"rational...": "..."` pairs. Items are returned unsplit; the matching (main/protocol/align.ts) splits comma-joined ones.
 */
export function robustItems(fields: { rationales?: string; rationales_checked?: string }): RobustItems {
  for (const field of ['rationales_checked', 'rationales'] as const) {
    const s = fields[field];
    if (s === undefined) continue;
    for (const cand of [s, paperFixSyntax(s)]) {
      let v: PyValue;
      try {
        v = parsePythonLiteral(cand, { json: true });
      } catch {
        continue;
      }
      const out: string[] = [];
      collectItems(v, out);
      if (out.length > 0) return { items: out, source: field };
    }
  }
  const raw = fields.rationales_checked ?? fields.rationales;
  if (raw === undefined) return { items: [], source: 'none' };
  const out: string[] = [];
  for (const m of raw.matchAll(/["']\??rational\w*["']\s*:\s*"([^"\n]*)"/giu)) out.push(m[1]);
  return { items: out, source: out.length ? 'scan' : 'none' };
}
