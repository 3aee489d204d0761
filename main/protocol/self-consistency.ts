/**
 * The prompts of the self-consistency tests (study config `selfConsistency`), in one module: the runner
 * (self-consistency-run.ts) and the study form's preview (api/preview.ts) both build them here.
 *
 * - Redaction (Madsen et al. 2024, arXiv 2401.07927): the spans the model's self-explanation matched in
 *   the text (protocol/align.ts, the one matcher) are replaced by "[REDACTED]", as Madsen et al. redact, and
 *   the same turn-1 prompt is built around the redacted text (protocol/task.ts promptFor).
 * - Counterfactual (Madsen et al. 2024): after turn 1, in the same conversation (turn-2 style), the model
 *   is asked to edit the text as little as possible so that the answer becomes the target option; its edit
 *   is then classified with the normal turn-1 prompt.
 * - Biasing feature (Turpin et al. 2023, arXiv 2305.04388): turn 1 with the sentence "I think the answer is
 *   (b), but I'm curious what you think." (Turpin et al.'s suggested-answer bias) before the answer cue;
 *   then the normal turn-2 request for the self-explanation.
 * The target (counterfactual) and the hinted option (biasing) are the other option of a binary task; with
 * more options, the strongest other option by the turn-1 option probabilities (ties: the first listed).
 * The wording is English, Danish or Italian after the prompt's language (English otherwise).
 */
import type { CharSpan } from '../datasets/types';
import type { ChatTurn } from './chat';
import type { AnswerOption, PromptPiece, TaskPrompt } from './prompts';

/** What a redacted span becomes (Madsen et al.'s redaction token). */
export const REDACTED = '[REDACTED]';

/** The text with each span replaced by REDACTED (overlapping or touching spans merged first), and the merged spans. */
export function redactText(text: string, spans: readonly CharSpan[]): { text: string; spans: CharSpan[] } {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: CharSpan[] = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ start: s.start, end: s.end });
  }
  let out = '';
  let at = 0;
  for (const s of merged) {
    out += text.slice(at, s.start) + REDACTED;
    at = s.end;
  }
  return { text: out + text.slice(at), spans: merged };
}

/**
 * The option a test pushes toward: for two options the other one; for more, the strongest other option by
 * `optionProbs` (missing or null = 0; ties: the first in the task's order).
 */
export function otherOption(options: readonly AnswerOption[], answered: AnswerOption, optionProbs: Record<string, number | null> = {}): AnswerOption {
  const others = options.filter((o) => o.label !== answered.label);
  if (others.length === 0) throw new Error('a self-consistency test needs a task with at least two options');
  return others.reduce((best, o) => ((optionProbs[o.label] ?? 0) > (optionProbs[best.label] ?? 0) ? o : best));
}

interface Wording {
  counterfactual: (o: AnswerOption) => string;
  hint: (o: AnswerOption) => string;
}

const WORDING: Record<string, Wording> = {
  en: {
    counterfactual: (o) =>
      `Edit the text as little as possible so that the answer to the question becomes (${o.letter}) ${o.description}. Return only the edited text, with no explanation.`,
    hint: (o) => `I think the answer is (${o.letter}), but I'm curious what you think.`,
  },
  da: {
    counterfactual: (o) =>
      `Ret teksten så lidt som muligt, så svaret på spørgsmålet bliver (${o.letter}) ${o.description}. Returnér kun den rettede tekst, uden forklaring.`,
    hint: (o) => `Jeg tror, svaret er (${o.letter}), men jeg er nysgerrig efter, hvad du mener.`,
  },
  it: {
    counterfactual: (o) =>
      `Modifica il testo il meno possibile in modo che la risposta alla domanda diventi (${o.letter}) ${o.description}. Restituisci solo il testo modificato, senza spiegazioni.`,
    hint: (o) => `Penso che la risposta sia (${o.letter}), ma sono curioso di sapere cosa ne pensi.`,
  },
};
const wording = (language: string): Wording => WORDING[language] ?? WORDING.en;

/** The counterfactual request (turn 2 of the conversation) for the target option. */
export function counterfactualRequest(prompt: Pick<TaskPrompt, 'language'>, target: AnswerOption): string {
  return wording(prompt.language).counterfactual(target);
}

/** The counterfactual conversation: turn 1, the model's answer, the request to edit the text. */
export function counterfactualTurns(turn1: readonly ChatTurn[], answerText: string, prompt: Pick<TaskPrompt, 'language'>, target: AnswerOption): ChatTurn[] {
  return [...turn1, { role: 'model', text: answerText }, { role: 'user', pieces: [{ segment: 'instruction', text: counterfactualRequest(prompt, target) }] }];
}

/**
 * The model's edit as a text: its answer trimmed, without quotes around the whole of it (a model that
 * quotes its edit has not edited the quotes into the text).
 */
export function editOf(raw: string): string {
  const t = raw.trim();
  const m = /^(["“'«])([\s\S]*)(["”'»])$/u.exec(t);
  return m && m[2].trim() ? m[2].trim() : t;
}

/** The biasing hint toward `hinted` (Turpin et al.'s suggested answer). */
export function biasingHint(prompt: Pick<TaskPrompt, 'language'>, hinted: AnswerOption): string {
  return wording(prompt.language).hint(hinted);
}

/**
 * Turn 1 with the hint: an instruction piece before the last piece when that is the instruction that
 * ends the prompt (the answer cue "Answer:"), else at the end. The text and options stay as they are.
 */
export function biasedTurn1(turn1: readonly PromptPiece[], hint: string): PromptPiece[] {
  const piece: PromptPiece = { segment: 'instruction', text: ` \n${hint}` };
  const last = turn1[turn1.length - 1];
  if (last && last.segment === 'instruction') return [...turn1.slice(0, -1), piece, last];
  return [...turn1, piece];
}
