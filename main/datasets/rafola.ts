import { ILO_INDICATORS, indicatorNamed, RAFOLA_ORDER } from '../protocol/indicators';
import { spansToMask } from './rationale';
import { decodeUtf8, type SourceFile } from './source';
import { DatasetError, type ParsedExample, type RationaleSpan } from './types';
import { describe } from './generic';
import { splitWords } from './words';

/**
 * RaFoLa (Mendez Guzman et al., LREC 2022): a JSON list of articles
 * `{index, title, content, labels, set, rationales}`.
 *
 *   - text = `content` exactly as stored; `title`, `set` and `index` go to meta.
 *   - labels: the 11-element 0/1 `labels` list becomes the names of the indicators marked 1 (listed in
 *     ILO order). Its positions follow RaFoLa's own (alphabetical) order, protocol/indicators.ts
 *     RAFOLA_ORDER, not the ILO's numbering; the raw list is kept in meta.labelVector.
 *   - rationales: each group `["NN. <indicator name>", snippet, ...]` gives character spans labelled
 *     with the indicator's name. The name decides (mapped by name, any case); the number is RaFoLa's
 *     and must agree with it (a header whose number and name disagree is an error, never guessed); a
 *     header with a number only takes RaFoLa's name for it.
 *     A snippet is located in `content` exactly; if absent, with runs of
 *     whitespace matched loosely (annotation tools often collapse them). Repeated snippets take
 *     the next occurrence after the previous snippet of the same group, else the first occurrence.
 *     A snippet found only in the title is kept in meta.titleRationales ({label, start, end} into
 *     the title) because the title is not part of the text; a snippet found nowhere is an error.
 *   - rationaleMask: words overlapping any span; null for an article without rationale groups.
 */

export function parseRafola(src: SourceFile): ParsedExample[] {
  const raw = decodeUtf8(src.bytes, src.file);
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (e) {
    throw new DatasetError(src.file, `not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new DatasetError(src.file, `expected a JSON list of articles, got ${describe(data)}`);
  if (data.length === 0) throw new DatasetError(src.file, 'the list of articles is empty');
  const ids = new Map<string, number>();
  return data.map((item, i): ParsedExample => {
    const row = i + 1; // position in the list, 1-based
    const fail = (field: string, detail: string): never => {
      throw new DatasetError(src.file, detail, row, field);
    };
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return fail('(article)', `expected an object, got ${describe(item)}`);
    const a = item as Record<string, unknown>;
    for (const f of ['index', 'content', 'labels']) if (a[f] === undefined) fail(f, 'missing');
    if (typeof a.index !== 'number' && typeof a.index !== 'string') fail('index', `expected a number or string, got ${describe(a.index)}`);
    const externalId = String(a.index);
    if (ids.has(externalId)) fail('index', `duplicate index ${externalId} (also at row ${ids.get(externalId)})`);
    ids.set(externalId, row);
    if (typeof a.content !== 'string') fail('content', `expected a string, got ${describe(a.content)}`);
    const content = a.content as string;
    if (content.trim() === '') fail('content', 'is empty');
    const title = a.title === undefined || a.title === null ? '' : a.title;
    if (typeof title !== 'string') fail('title', `expected a string, got ${describe(title)}`);
    const labelVector = a.labels;
    if (!Array.isArray(labelVector) || labelVector.length !== 11 || labelVector.some((v) => v !== 0 && v !== 1)) {
      fail('labels', `expected a list of 11 zeros and ones, got ${Array.isArray(labelVector) ? `a list of ${labelVector.length}: ${JSON.stringify(labelVector).slice(0, 60)}` : describe(labelVector)}`);
    }
    // names mapped from RaFoLa's positions, listed in ILO order
    const labels = ILO_INDICATORS.filter((name) => (labelVector as number[])[RAFOLA_ORDER.indexOf(name)] === 1);

    const spans: RationaleSpan[] = [];
    const titleRationales: RationaleSpan[] = [];
    const groups = a.rationales ?? [];
    if (!Array.isArray(groups)) fail('rationales', `expected a list of groups, got ${describe(groups)}`);
    (groups as unknown[]).forEach((g, gi) => {
      const where = `group ${gi + 1}`;
      if (!Array.isArray(g) || g.length === 0 || g.some((x) => typeof x !== 'string')) {
        fail('rationales', `${where}: expected a list of strings ["NN. indicator", snippet, ...]`);
      }
      const [head, ...snippets] = g as string[];
      const m = /^\s*(\d{1,2})\s*\.\s*(.*)$/.exec(head);
      const num = m ? Number(m[1]) : NaN;
      if (!m || num < 1 || num > 11) fail('rationales', `${where}: header ${JSON.stringify(head)} does not start with an indicator number 01-11`);
      const named = m![2].trim() === '' ? RAFOLA_ORDER[num - 1] : indicatorNamed(m![2]);
      if (!named) fail('rationales', `${where}: header ${JSON.stringify(head)}: ${JSON.stringify(m![2].trim())} is not the name of an ILO indicator`);
      if (named !== RAFOLA_ORDER[num - 1]) {
        fail('rationales', `${where}: header ${JSON.stringify(head)}: RaFoLa's number ${m![1]} is ${RAFOLA_ORDER[num - 1]}, not ${named}`);
      }
      const label: string = named!;
      let from = 0;
      snippets.forEach((snip, si) => {
        if (snip.trim() === '') fail('rationales', `${where}, snippet ${si + 1}: is empty`);
        const found = locate(content, snip, from) ?? locate(content, snip, 0);
        if (found) {
          spans.push({ ...found, label });
          from = found.end;
          return;
        }
        const inTitle = locate(title as string, snip, 0);
        if (inTitle) {
          titleRationales.push({ ...inTitle, label });
          return;
        }
        fail('rationales', `${where} (${label}), snippet ${si + 1} ${JSON.stringify(snip.length > 60 ? `${snip.slice(0, 60)}...` : snip)} occurs neither in the content nor in the title`);
      });
    });
    spans.sort((x, y) => x.start - y.start || x.end - y.end);
    const words = splitWords(content);
    const hasRationale = (groups as unknown[]).length > 0;
    const meta: Record<string, unknown> = { labelVector };
    if (title !== '') meta.title = title;
    if (a.set !== undefined) meta.set = a.set;
    if (titleRationales.length > 0) meta.titleRationales = titleRationales;
    return {
      externalId,
      text: content,
      language: 'en',
      labels: [...labels],
      words,
      rationaleMask: hasRationale ? spansToMask(words, spans) : null,
      rationaleSpans: spans,
      meta,
    };
  });
}

/** Exact occurrence from `from`, else one with whitespace runs matched loosely. */
function locate(hay: string, needle: string, from: number): { start: number; end: number } | null {
  const exact = hay.indexOf(needle, from);
  if (exact >= 0) return { start: exact, end: exact + needle.length };
  const parts = needle.trim().split(/\s+/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(parts.join('\\s+'), 'gu');
  re.lastIndex = from;
  const m = re.exec(hay);
  return m ? { start: m.index, end: m.index + m[0].length } : null;
}
