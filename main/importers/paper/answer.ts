/**
 * Parsing the answer turn of the published SST runs ("(a) ... rather positive / (b) ... rather negative").
 */

export type SstLabel = 'positive' | 'negative';
export type ParsedAnswer = SstLabel | 'invalid';

const LETTER: Record<string, SstLabel> = { a: 'positive', b: 'negative' };

/**
 * Our parser. Invalid stays invalid (never a class):
 *  1. drop leading whitespace and the prefixes "[/INST]", "Answer:", "Option";
 *  2. an option letter at the start: "(a)", "a)", "a.", "a:" or "a" alone -> that option;
 *  3. otherwise exactly one of "rather positive" / "rather negative" (the option wording) -> that label
 *     (Llama-2 often answers "... rather positive. Here's why: (a) ... (b) ..." with letters as bullets);
 *  4. otherwise exactly one of the markers "(a)" / "(b)" anywhere -> that option;
 *  5. otherwise 'invalid' (both or neither).
 */
export function parseAnswer(response: string): ParsedAnswer {
  let t = response.trim();
  for (;;) {
    const m = /^(\[\/INST\]|Answer:|Option)\s*/i.exec(t);
    if (!m) break;
    t = t.slice(m[0].length);
  }
  const lower = t.toLowerCase();
  const start = /^\(?([ab])(?:\)|\.|:|$|\s*$)/.exec(lower);
  if (start) return LETTER[start[1]];
  const pos = lower.includes('rather positive');
  const neg = lower.includes('rather negative');
  if (pos !== neg) return pos ? 'positive' : 'negative';
  const hasA = lower.includes('(a)');
  const hasB = lower.includes('(b)');
  if (hasA !== hasB) return hasA ? 'positive' : 'negative';
  return 'invalid';
}

/**
 * The reference `normalize_responses` (non-shuffled), kept to reproduce the published accuracy:
 * 1 = (a)/positive, 0 = (b)/negative. Its last branch is `elif 'does not contain evidence for' or ...`,
 * a non-empty string and so always true: every unparsable answer becomes 0 (negative). The result
 * is recomputed from `response_<i>`; the stored `normalized_response_<i>` is not what the paper scored.
 */
export function paperNormalizeResponse(response: string): 0 | 1 {
  let r = response;
  if (r.startsWith('[/INST]') || r.startsWith('Answer:') || r.startsWith('Option')) {
    r = r.split('[/INST] ').join('').split('Answer: ').join('').split('Option ').join('');
  }
  const l = r.toLowerCase();
  if (l.startsWith('(a)') || l.startsWith('a)')) return 1;
  if (l.startsWith('(b)') || l.startsWith('b)') || l.startsWith('no')) return 0;
  if (l.startsWith('yes')) return 1;
  if (l.includes('(a)') && !l.includes('(b)')) return 1;
  if (l.includes('(b)') && !l.includes('(a)')) return 0;
  if (l.includes('does contain evidence for')) return 1;
  return 0; // the always-true branch
}
