/**
 * A minimal XML parser for the parts of an .xlsx file we read (workbook, relationships, shared
 * strings, worksheets). It handles elements, attributes, text, CDATA, comments, processing
 * instructions and the predefined and numeric character entities; it does not handle DTDs
 * (OOXML parts have none) and refuses malformed markup rather than guessing.
 */

export interface XmlElement {
  /** Qualified name as written, e.g. "c" or "x:c". */
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export class XmlError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlError';
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string, offset = 0): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]*);?/g, (whole, ent: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`unterminated entity "${whole}"`, offset);
    if (ent.startsWith('#x') || ent.startsWith('#X')) return fromCodePoint(parseInt(ent.slice(2), 16), whole, offset);
    if (ent.startsWith('#')) return fromCodePoint(parseInt(ent.slice(1), 10), whole, offset);
    const v = ENTITIES[ent];
    if (v === undefined) throw new XmlError(`unknown entity "${whole}"`, offset);
    return v;
  });
}

function fromCodePoint(cp: number, whole: string, offset: number): string {
  if (!Number.isInteger(cp) || cp < 0 || cp > 0x10ffff) throw new XmlError(`bad character reference "${whole}"`, offset);
  return String.fromCodePoint(cp);
}

/** Local name without namespace prefix ("x:row" -> "row"). */
export function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

export function parseXml(input: string): XmlElement {
  // XML end-of-line handling (XML 1.0 section 2.11): literal CR LF and CR are read as LF.
  const src = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      if (stack.length > 1) stack[stack.length - 1].children.push(decodeEntities(raw, i));
      else if (raw.trim() !== '') throw new XmlError('text outside the root element', i);
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<?', i)) {
      const e = src.indexOf('?>', i);
      if (e < 0) throw new XmlError('unterminated processing instruction', i);
      i = e + 2;
    } else if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i);
      if (e < 0) throw new XmlError('unterminated comment', i);
      i = e + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const e = src.indexOf(']]>', i);
      if (e < 0) throw new XmlError('unterminated CDATA section', i);
      if (stack.length > 1) stack[stack.length - 1].children.push(src.slice(i + 9, e));
      i = e + 3;
    } else if (src.startsWith('<!', i)) {
      throw new XmlError('DTDs are not supported', i);
    } else if (src.startsWith('</', i)) {
      const e = src.indexOf('>', i);
      if (e < 0) throw new XmlError('unterminated end tag', i);
      const name = src.slice(i + 2, e).trim();
      const open = stack.pop();
      if (!open || open === root || open.name !== name) {
        throw new XmlError(`end tag </${name}> does not match <${open && open !== root ? open.name : ''}>`, i);
      }
      i = e + 1;
    } else {
      i = parseStartTag(src, i, stack);
    }
  }
  if (stack.length !== 1) throw new XmlError(`unclosed element <${stack[stack.length - 1].name}> (truncated file?)`, n);
  const elements = root.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (elements.length !== 1) throw new XmlError(elements.length === 0 ? 'no root element' : 'more than one root element', 0);
  return elements[0];
}

const NAME = /[^\s/>=]+/y;

function parseStartTag(src: string, start: number, stack: XmlElement[]): number {
  let i = start + 1;
  NAME.lastIndex = i;
  const m = NAME.exec(src);
  if (!m) throw new XmlError('bad start tag', start);
  const el: XmlElement = { name: m[0], attrs: {}, children: [] };
  i = NAME.lastIndex;
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (i >= src.length) throw new XmlError(`unterminated start tag <${el.name}>`, start);
    if (src[i] === '>') {
      stack[stack.length - 1].children.push(el);
      stack.push(el);
      return i + 1;
    }
    if (src.startsWith('/>', i)) {
      stack[stack.length - 1].children.push(el);
      return i + 2;
    }
    NAME.lastIndex = i;
    const a = NAME.exec(src);
    if (!a) throw new XmlError(`bad attribute in <${el.name}>`, i);
    i = NAME.lastIndex;
    while (/\s/.test(src[i] ?? '')) i++;
    if (src[i] !== '=') throw new XmlError(`attribute ${a[0]} has no value`, i);
    i++;
    while (/\s/.test(src[i] ?? '')) i++;
    const q = src[i];
    if (q !== '"' && q !== "'") throw new XmlError(`attribute ${a[0]} value is not quoted`, i);
    const e = src.indexOf(q, i + 1);
    if (e < 0) throw new XmlError(`unterminated attribute ${a[0]}`, i);
    el.attrs[a[0]] = decodeEntities(src.slice(i + 1, e), i);
    i = e + 1;
  }
}

/** Child elements with the given local name. */
export function childElements(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && localName(c.name) === local);
}

export function firstChild(el: XmlElement, local: string): XmlElement | undefined {
  return childElements(el, local)[0];
}

/** Concatenated text content of an element (all descendant text). */
export function textContent(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : textContent(c);
  return s;
}
