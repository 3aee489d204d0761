import type { Llama, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { renderChat, type ChatTurn, type RenderedChat } from './chat';
import { fold, phraseRegExp } from './fold';
import { generate, nextTokenDistribution, type SamplingOptions } from './infer';
import { tokenCharSpans } from './offsets';
import { parseAnswer, type ParsedAnswer } from './parse';
import type { GoldLabel } from './gold';
import type { AnswerOption, TaskPrompt } from './prompts';

export type ClassifyMode = 'paper' | 'constrained' | 'scoring';

/** What protocol steps run on: a loaded model, one sequence, the Llama instance (for grammars). */
export interface ProtocolRuntime {
  llama: Llama;
  model: LlamaModel;
  sequence: LlamaContextSequence;
  /** The chat template to render with (the model's own unless overridden). */
  template: string;
}

export interface ClassifyOptions {
  mode: ClassifyMode;
  sampling: SamplingOptions;
  /** Paper: up to 100 new tokens. */
  maxNewTokens: number;
  signal?: AbortSignal;
}

export interface AnswerToken {
  id: number;
  text: string;
  /** Index in the evaluated sequence (prompt + response). */
  position: number;
  /** Plain-softmax probability of this token at `position`. */
  prob: number;
}

export interface ClassifyResult {
  mode: ClassifyMode;
  status: 'ok' | 'invalid' | 'skipped';
  /** The option's class label; null unless status is 'ok'. */
  label: string | null;
  option: AnswerOption | null;
  /** Why the answer is invalid or the example skipped. */
  reason?: string;
  responseText: string;
  responseTokens: Token[];
  stop?: 'eog' | 'grammar' | 'length' | 'complete';
  parse?: ParsedAnswer;
  answer: AnswerToken | null;
  /** Probability of each option's answer token at the answer position, from the same distribution; keyed by label. */
  optionProbs: Record<string, number | null>;
  /** Why optionProbs are null (the answer token has no per-option counterpart). */
  optionProbsNote?: string;
  /** The evaluated tokens before the answer token: what the masked-input primitive re-evaluates. */
  contextBeforeAnswer: Token[];
  chat: RenderedChat;
}

/**
 * Whether an answer is correct: the answered option is the option the gold label maps to (protocol/gold.ts).
 * Compared by option, never by text, so a gold label that maps to no option (or an invalid answer) can
 * never be correct; a study with such labels is refused before it runs (runner/study.ts).
 */
export function isCorrect(answer: AnswerOption | null, gold: GoldLabel): boolean {
  return answer !== null && gold.status === 'ok' && answer.label === gold.label;
}

/** Turn 1 of the protocol on an already rendered prompt. */
export async function classify(rt: ProtocolRuntime, chat: RenderedChat, turns: readonly ChatTurn[], prompt: TaskPrompt, opts: ClassifyOptions): Promise<ClassifyResult> {
  const base = {
    mode: opts.mode,
    responseText: '',
    responseTokens: [] as Token[],
    answer: null,
    optionProbs: Object.fromEntries(prompt.options.map((o) => [o.label, null])) as Record<string, number | null>,
    contextBeforeAnswer: [] as Token[],
    chat,
  };
  const need = chat.tokens.length + (opts.mode === 'scoring' ? 8 : opts.maxNewTokens);
  if (need > rt.sequence.contextSize) {
    return { ...base, status: 'skipped', label: null, option: null, reason: `prompt has ${chat.tokens.length} tokens; with the answer it needs ${need}, the context holds ${rt.sequence.contextSize}` };
  }
  if (opts.mode === 'scoring') return score(rt, turns, prompt, base);

  const grammar =
    opts.mode === 'constrained'
      ? await rt.llama.createGrammar({ grammar: `root ::= ${prompt.options.map((o) => JSON.stringify(`(${o.letter})`)).join(' | ')}` })
      : undefined;
  const gen = await generate(rt.sequence, rt.model, chat.tokens, { sampling: opts.sampling, maxNewTokens: opts.maxNewTokens, grammar, signal: opts.signal });
  const { full, spans } = tokenCharSpans(rt.model, [...chat.tokens, ...gen.tokens], true);
  if (!full.startsWith(chat.full)) throw new Error('decoded response does not continue the decoded prompt');
  const responseText = full.slice(chat.full.length);
  const parsed = parseAnswer(responseText, prompt.options);
  const common = { ...base, responseText, responseTokens: gen.tokens, stop: gen.stop, parse: parsed };
  if (parsed.status === 'invalid') return { ...common, status: 'invalid', label: null, option: null, reason: parsed.reason };

  const key = decisiveKey(responseText, parsed);
  const keyAbs = chat.full.length + key.start;
  const respSpans = spans.slice(chat.tokens.length);
  const j = respSpans.findIndex((s) => s.start <= keyAbs && keyAbs < s.end);
  if (j < 0) throw new Error(`no response token covers the answer at offset ${key.start}`);
  const before = [...chat.tokens, ...gen.tokens.slice(0, j)];
  const dist = await nextTokenDistribution(rt.sequence, before);
  const answerId = gen.tokens[j];
  const answer: AnswerToken = { id: answerId, text: rt.model.detokenize([answerId], true), position: before.length, prob: dist.get(answerId) ?? 0 };

  // Each option's counterpart of the answer token: the same token text with the key swapped.
  const tokText = full.slice(respSpans[j].start, respSpans[j].end);
  const keyIn = keyAbs - respSpans[j].start;
  const fragmentToken = (s: string) => rt.model.tokenize(s, false, 'trimLeadingSpace')[0];
  const keyOf = (o: AnswerOption) => (key.kind === 'letter' ? o.letter : o.word);
  const ownKeyText = responseText.slice(key.start, key.end);
  const sameCase = (k: string) => (ownKeyText[0] && ownKeyText[0] === ownKeyText[0].toUpperCase() ? k[0].toUpperCase() + k.slice(1) : k);
  const optionProbs: Record<string, number | null> = {};
  let note: string | undefined;
  if (fragmentToken(tokText.slice(0, keyIn) + sameCase(keyOf(parsed.option))) !== answerId) {
    note = `the answer token ${JSON.stringify(tokText)} does not re-tokenize as itself, so options have no single-token counterpart`;
    for (const o of prompt.options) optionProbs[o.label] = o === parsed.option ? answer.prob : null;
  } else {
    for (const o of prompt.options) optionProbs[o.label] = dist.get(fragmentToken(tokText.slice(0, keyIn) + sameCase(keyOf(o)))) ?? 0;
  }
  return { ...common, status: 'ok', label: parsed.option.label, option: parsed.option, answer, optionProbs, optionProbsNote: note, contextBeforeAnswer: before };
}

/** The character range in the response that decides the option: the letter, or the option's word in a phrase. */
function decisiveKey(response: string, parsed: Extract<ParsedAnswer, { status: 'ok' }>): { kind: 'letter' | 'word'; start: number; end: number } {
  const ev = parsed.evidence;
  if (ev.kind === 'letter' || ev.kind === 'leading-letter') return { kind: 'letter', start: ev.start, end: ev.end };
  const re = phraseRegExp(parsed.option.word);
  if (re) {
    const f = fold(response.slice(ev.start, ev.end));
    const m = re.exec(f.folded);
    if (m) return { kind: 'word', start: ev.start + f.startOf[m.index], end: ev.start + f.endOf[m.index + m[0].length - 1] };
  }
  return { kind: 'word', start: ev.start, end: ev.end };
}

/** Scoring mode: deterministic; each option's "(x)" continuation is rendered and its first distinct token scored. */
async function score(
  rt: ProtocolRuntime,
  turns: readonly ChatTurn[],
  prompt: TaskPrompt,
  base: Omit<ClassifyResult, 'status' | 'label' | 'option'>,
): Promise<ClassifyResult> {
  const seqs = prompt.options.map((o) => renderChat(rt.model, rt.template, [...turns, { role: 'model', text: `(${o.letter})` }]).tokens);
  let l = 0;
  while (seqs.every((s) => l < s.length && s[l] === seqs[0][l])) l++;
  const ids = seqs.map((s) => s[l]);
  if (ids.some((t) => t === undefined) || new Set(ids).size !== ids.length) {
    throw new Error(`options ${prompt.options.map((o) => `(${o.letter})`).join(' ')} have no distinct first answer token for this tokenizer`);
  }
  const before = seqs[0].slice(0, l);
  const dist = await nextTokenDistribution(rt.sequence, before);
  const optionProbs: Record<string, number | null> = {};
  prompt.options.forEach((o, i) => (optionProbs[o.label] = dist.get(ids[i]) ?? 0));
  let best = 0;
  prompt.options.forEach((o, i) => {
    if ((optionProbs[o.label] ?? 0) > (optionProbs[prompt.options[best].label] ?? 0)) best = i;
  });
  const option = prompt.options[best];
  const id = ids[best];
  return {
    ...base,
    status: 'ok',
    label: option.label,
    option,
    responseText: `(${option.letter})`,
    responseTokens: seqs[best].slice(base.chat.tokens.length),
    answer: { id, text: rt.model.detokenize([id], true), position: l, prob: optionProbs[option.label] ?? 0 },
    optionProbs,
    contextBeforeAnswer: before,
  };
}
