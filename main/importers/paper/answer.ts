/**
 * The answer turn of the published SST runs ("(a) ... rather positive / (b) ... rather negative"), read two
 * ways: by the workbench's one answer parser (main/protocol/parse.ts, with the paper's English options), and
 * by the paper's own normaliser, kept only to reproduce the published accuracy.
 */
import { buildTaskPrompt } from '../../protocol/prompts';
import { parseAnswer as parseProtocolAnswer } from '../../protocol/parse';

export type SstLabel = 'positive' | 'negative';
export type ParsedAnswer = SstLabel | 'invalid';

/** The paper's options: the workbench's English sentiment wording is the paper's (annotation_request). */
const SST_OPTIONS = buildTaskPrompt({ task: 'sentiment', language: 'en' }, 'x').options;

/**
 * The workbench's reading (protocol parseAnswer): a leading option letter or label word, else the option
 * phrases ("rather positive") anywhere, which must all name the same option, else "(a)"/"(b)" markers,
 * which must agree. Anything else, including an answer that states both options, is 'invalid', never a class.
 */
export function parseAnswer(response: string): ParsedAnswer {
  const p = parseProtocolAnswer(response, SST_OPTIONS);
  return p.status === 'ok' ? (p.option.label as SstLabel) : 'invalid';
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
