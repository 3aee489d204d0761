import { maskToSpans } from './rationale';
import { describe } from './generic';
import { decodeUtf8, type SourceFile } from './source';
import { DatasetError, type AnnotatorValues, type ParsedExample } from './types';
import { splitWords } from './words';

/**
 * Climate-FEVER rationale rows: JSON Lines, one claim-evidence pair per line.
 *
 *   {"id": "cf-12",                       optional (string or number); default: the line number
 *    "claim": "...",                      required string
 *    "evidence": "...",                   required string (one evidence sentence)
 *    "label": "SUPPORTS",                 required: SUPPORTS | REFUTES | NOT_ENOUGH_INFO
 *    "tokens": ["Polar", "bears", ...],   optional: the evidence's tokens in order; each must continue the
 *                                         evidence text after skipping whitespace; default: its whitespace words
 *    "annotations": {"a1": [1, 0, -1, ...], "a2": [...], "a3": [...]}
 *                                         required: per annotator one value per token, +1 / 0 / -1;
 *                                         a list of lists is also accepted (annotators named "1", "2", ...)
 *    "language": "en"}                    optional; default --language, else "en"
 *
 * Values: +1 = the annotator marked the token as evidence for the gold label, -1 = marked it as
 * evidence against the gold label, 0 = not marked.
 *
 * The example text is claim + "\n" + evidence (meta.claim / meta.evidence hold both ranges).
 * Annotator values are stored per whitespace word of that text (claim words are 0; an evidence
 * word takes the first non-zero value among its tokens). The rationale mask is the MAJORITY of
 * positive marks: a word is a rationale word when more than half of the annotators gave it +1
 * (2 of 3). Rationale spans are the selected words. Raw per-token values stay in meta.
 */

export const CLAIM_EVIDENCE_SEPARATOR = '\n';
export const CLIMATE_FEVER_LABELS = ['SUPPORTS', 'REFUTES', 'NOT_ENOUGH_INFO'] as const;

export function parseClimateFever(src: SourceFile, opts: { language?: string }): ParsedExample[] {
  const raw = decodeUtf8(src.bytes, src.file);
  const out: ParsedExample[] = [];
  const ids = new Map<string, number>();
  raw.split('\n').forEach((line, li) => {
    if (line.trim() === '') return;
    const row = li + 1;
    const fail = (field: string, detail: string): never => {
      throw new DatasetError(src.file, detail, row, field);
    };
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DatasetError(src.file, `not valid JSON (${(e as Error).message})`, row);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DatasetError(src.file, 'each line must be a JSON object', row);
    const r = v as Record<string, unknown>;
    const str = (f: string): string => {
      if (r[f] === undefined) return fail(f, 'missing');
      if (typeof r[f] !== 'string') return fail(f, `expected a string, got ${describe(r[f])}`);
      if ((r[f] as string).trim() === '') return fail(f, 'is empty');
      return r[f] as string;
    };
    const claim = str('claim');
    const evidence = str('evidence');
    const label = str('label');
    if (!(CLIMATE_FEVER_LABELS as readonly string[]).includes(label)) fail('label', `${JSON.stringify(label)} is not one of ${CLIMATE_FEVER_LABELS.join(', ')}`);
    let externalId = String(row);
    if (r.id !== undefined && r.id !== null) {
      if (typeof r.id !== 'string' && typeof r.id !== 'number') fail('id', `expected a string or number, got ${describe(r.id)}`);
      externalId = String(r.id);
    }
    if (ids.has(externalId)) fail('id', `duplicate id "${externalId}" (also on row ${ids.get(externalId)})`);
    ids.set(externalId, row);
    let language = opts.language ?? 'en';
    if (r.language !== undefined) language = str('language');

    const text = claim + CLAIM_EVIDENCE_SEPARATOR + evidence;
    const evStart = claim.length + CLAIM_EVIDENCE_SEPARATOR.length;

    // Token offsets inside the evidence.
    let tokens: string[];
    if (r.tokens === undefined) tokens = splitWords(evidence).map((w) => w.text);
    else if (!Array.isArray(r.tokens) || r.tokens.some((t) => typeof t !== 'string' || t === '' || /\s/.test(t))) {
      return fail('tokens', 'expected a list of non-empty strings without whitespace');
    } else tokens = r.tokens as string[];
    if (tokens.length === 0) fail('tokens', 'is empty');
    const tokOffsets: { start: number; end: number }[] = [];
    let pos = 0;
    tokens.forEach((t, ti) => {
      while (pos < evidence.length && /\s/.test(evidence[pos])) pos++;
      if (!evidence.startsWith(t, pos)) {
        fail('tokens', `token ${ti + 1} ${JSON.stringify(t)} does not continue the evidence at character ${pos} (${JSON.stringify(evidence.slice(pos, pos + 20))})`);
      }
      tokOffsets.push({ start: evStart + pos, end: evStart + pos + t.length });
      pos += t.length;
    });
    if (evidence.slice(pos).trim() !== '') fail('tokens', `the tokens end at character ${pos} but the evidence goes on (${JSON.stringify(evidence.slice(pos, pos + 20))})`);

    // Annotations, per token.
    let annotated: [string, unknown][];
    if (Array.isArray(r.annotations)) annotated = r.annotations.map((a, k) => [String(k + 1), a]);
    else if (r.annotations !== null && typeof r.annotations === 'object') annotated = Object.entries(r.annotations);
    else return fail('annotations', r.annotations === undefined ? 'missing' : `expected an object {annotator: values} or a list of lists, got ${describe(r.annotations)}`);
    if (annotated.length === 0) fail('annotations', 'has no annotators');
    const perToken: Record<string, number[]> = {};
    for (const [name, vals] of annotated) {
      if (!Array.isArray(vals)) fail('annotations', `annotator ${name}: expected a list, got ${describe(vals)}`);
      const arr = vals as unknown[];
      if (arr.length !== tokens.length) fail('annotations', `annotator ${name} has ${arr.length} values but there are ${tokens.length} tokens`);
      const bad = arr.findIndex((x) => x !== 1 && x !== 0 && x !== -1);
      if (bad >= 0) fail('annotations', `annotator ${name}, value ${bad + 1} is ${JSON.stringify(arr[bad])}; expected 1, 0 or -1`);
      perToken[name] = arr as number[];
    }

    const words = splitWords(text);
    const annotators: AnnotatorValues[] = Object.entries(perToken).map(([annotator, vals]) => ({
      annotator,
      values: words.map((w) => {
        const k = tokOffsets.findIndex((o, ti) => o.start < w.end && o.end > w.start && vals[ti] !== 0);
        return k < 0 ? 0 : vals[k];
      }),
    }));
    const n = annotators.length;
    const mask = words.map((_, wi) => (annotators.filter((a) => a.values[wi] === 1).length * 2 > n ? 1 : 0));
    out.push({
      externalId,
      text,
      language,
      labels: [label],
      words,
      rationaleMask: mask,
      rationaleSpans: maskToSpans(words, mask),
      annotators,
      meta: {
        claim: { start: 0, end: claim.length },
        evidence: { start: evStart, end: evStart + evidence.length },
        tokens: tokens.map((t, ti) => ({ text: t, ...tokOffsets[ti] })),
        tokenValues: perToken,
      },
    });
  });
  if (out.length === 0) throw new DatasetError(src.file, 'the file has no rows');
  return out;
}
