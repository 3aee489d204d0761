import { fold, phraseRegExp } from './fold';
import type { AnswerOption } from './prompts';

/** Where in the response the decision was read, and how. */
export interface AnswerEvidence {
  kind: 'leading-letter' | 'leading-word' | 'letter' | 'phrase';
  /** The option's key character range in the response: the letter, or the first word of the phrase/word. */
  start: number;
  end: number;
}

export type ParsedAnswer =
  | { status: 'ok'; option: AnswerOption; evidence: AnswerEvidence }
  | { status: 'invalid'; option: null; reason: string };

const LEADING_NOISE = /^[\s*_#>"'`\u201c\u201d]*(?:(?:answer|svar|risposta)\s*:\s*)?[\s*_"']*/iu;

/**
 * Read the chosen option from a free-text answer. Order: a leading "(a)" / "a)" / "(a"; a leading label
 * word ("Yes", "positive"); otherwise the option phrases anywhere in the answer, which must all name the same
 * option, and failing those every "(x)" marker, which must agree likewise. Anything else is `invalid`, never a class: the reference code's
 * always-true branch turned every unparsed answer into the negative class.
 */
export function parseAnswer(response: string, options: readonly AnswerOption[]): ParsedAnswer {
  const byLetter = new Map(options.map((o) => [o.letter.toLowerCase(), o]));
  const lead = LEADING_NOISE.exec(response)?.[0].length ?? 0;
  const head = response.slice(lead);

  const leadingLetter = /^\(([a-z])\)|^\(([a-z])(?![\p{L}\p{N}])|^([a-z])\)/iu.exec(head);
  if (leadingLetter) {
    const letter = (leadingLetter[1] ?? leadingLetter[2] ?? leadingLetter[3]).toLowerCase();
    const option = byLetter.get(letter);
    if (!option) return { status: 'invalid', option: null, reason: `answer starts with option (${letter}), which the question does not offer` };
    const at = lead + leadingLetter[0].toLowerCase().indexOf(letter);
    return { status: 'ok', option, evidence: { kind: 'leading-letter', start: at, end: at + 1 } };
  }

  const headFolded = fold(head).folded;
  for (const o of options) {
    const re = phraseRegExp(o.word);
    if (!re) continue;
    re.lastIndex = 0;
    const m = re.exec(headFolded);
    if (m && m.index === 0) {
      const f = fold(head);
      return { status: 'ok', option: o, evidence: { kind: 'leading-word', start: lead + f.startOf[0], end: lead + f.endOf[m[0].length - 1] } };
    }
  }

  // Anywhere in the answer: collect every signal and require agreement.
  const signals: Array<{ option: AnswerOption; evidence: AnswerEvidence }> = [];
  const unknownLetters = new Set<string>();
  for (const m of response.matchAll(/\(([a-z])\)/giu)) {
    const option = byLetter.get(m[1].toLowerCase());
    if (!option) {
      unknownLetters.add(m[1].toLowerCase());
      continue;
    }
    signals.push({ option, evidence: { kind: 'letter', start: m.index! + 1, end: m.index! + 2 } });
  }
  const f = fold(response);
  for (const o of options) {
    for (const phrase of o.phrases) {
      const re = phraseRegExp(phrase);
      if (!re) continue;
      for (const m of f.folded.matchAll(re)) {
        signals.push({ option: o, evidence: { kind: 'phrase', start: f.startOf[m.index!], end: f.endOf[m.index! + m[0].length - 1] } });
      }
    }
  }
  // Option phrases ("rather positive") outrank bare letters: Llama-2 often states its choice in words and
  // then uses "(a)", "(b)" as bullet points of its reasons; the reference code read those as option (b).
  for (const kind of ['phrase', 'letter'] as const) {
    const of = signals.filter((s) => s.evidence.kind === kind).sort((a, b) => a.evidence.start - b.evidence.start);
    const named = new Set(of.map((s) => s.option.letter));
    if (named.size === 1) return { status: 'ok', option: of[0].option, evidence: of[0].evidence };
    if (named.size > 1) {
      return { status: 'invalid', option: null, reason: `answer names several options (${[...named].map((l) => `(${l})`).join(', ')})` };
    }
  }
  if (unknownLetters.size > 0) {
    return { status: 'invalid', option: null, reason: `answer names option(s) ${[...unknownLetters].map((l) => `(${l})`).join(', ')}, which the question does not offer` };
  }
  return { status: 'invalid', option: null, reason: 'no option letter, label word or option phrase found in the answer' };
}
