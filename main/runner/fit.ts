/**
 * Does an example fit the context a run gives it? Counted before the run (the study form's fit check, the
 * runner's refusal of a study that has texts too long and no choice made) and in the run (skip or truncate),
 * by one rule, with the model's own tokenizer and chat template, on the runner's own prompt (protocol/task.ts
 * promptFor, rendered as the runner renders it).
 *
 * An example fits when the whole protocol fits in the run's context: turn 1's prompt, the answer's tokens
 * (limits.maxNewTokens; a few in scoring mode), and, when the study asks for self-explanations, turn 2's
 * request with the template's markup around it and room for an answer of at least one item (as long as the
 * text's longest, in the model's tokens; see exampleFit). Turn 1's prompt alone must also stay within limits.maxContextTokens
 * (the paper's limit; the runner skipped longer prompts after they were tokenized, which is what froze a
 * long text's run).
 */
import type { LlamaModel } from 'node-llama-cpp';
import type { StudyConfig } from '../config/study-schema';
import { humanK, promptFor, renderChat, selfExplanationTurns, type ChatTurn, type Indicator } from '../protocol';
import { extractiveMaxBytes, freeBudget, jsonStringBytes } from '../protocol/self-explanation-budget';
import { DEFAULT_MAX_ITEM_CHARS } from '../protocol/self-explanation';
import type { RationaleSpan } from '../datasets/types';
import type { StoredExample } from '../store/types';

/** The reason stored with an example skipped because it does not fit (README: "too long for the context"). */
export const TOO_LONG_REASON = 'too long for the context';

/** Examples listed by a refusal or the fit check (the rest counted). */
export const TOO_LONG_CAP = 20;

/** The context a run creates for a model: the model's own, at most what the study's limits ask for. */
export function runContextSize(trainContextSize: number, limits: StudyConfig['limits']): number {
  return Math.min(trainContextSize, limits.maxContextTokens + limits.maxNewTokens + 512);
}

/**
 * The context length a model was trained with, from its GGUF metadata: a vocabulary-only load (the fit check
 * loads no weights) reports 0 as its trainContextSize.
 */
export function trainContextOf(model: LlamaModel): number {
  if (model.trainContextSize > 0) return model.trainContextSize;
  const md = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const arch = md.general?.architecture;
  const n = typeof arch === 'string' ? md[arch]?.context_length : undefined;
  if (typeof n === 'number' && n > 0) return n;
  throw new Error(`${model.filename ?? 'model'}: no context length in its metadata (${String(arch)}.context_length)`);
}

/** Tokens one example needs under a study, and whether that fits. */
export interface ExampleFit {
  /** Turn 1's prompt, chat template included. */
  promptTokens: number;
  /** The whole protocol: prompt, answer, and turn 2 with its longest self-explanation. */
  need: number;
  /** What it must fit in: the run's context (and maxContextTokens for the prompt alone). */
  context: number;
  fits: boolean;
}

export interface FitRuntime {
  model: LlamaModel;
  template: string;
  contextSize: number;
}

/** Turn 2 of one example: its request (with the template's markup) and the answer's room (see exampleFit). */
interface Turn2Room {
  /** Tokens of the request between turn 1's prompt (+ a one-token answer) and turn 2's answer. */
  request: number;
  /** The grammar's bound on the answer (self-explanation-budget.ts): the budget turn 2 gets when the context has room. */
  bound: number;
  /** One item as long as the text's longest, in its JSON frame, in the model's tokens. */
  perItem: number;
}

function turn2Room(rt: FitRuntime, config: StudyConfig, ex: StoredExample, prompt: ReturnType<typeof promptFor>['prompt'], rationale: Parameters<typeof humanK>[1], turns: ChatTurn[], promptTokens: number): Turn2Room | null {
  if (!config.explanations.some((e) => e.method === 'self')) return null;
  const kCfg = config.selfExplanation.k;
  const k = kCfg === 'free' ? null : kCfg === 'human' ? humanK(ex.text, rationale) : kCfg;
  // k = 0: no turn 2 (skipped as empty-human-rationale)
  if (k === 0) return null;
  // turn 2's request and the template's markup around it: the conversation with a one-token answer,
  // less turn 1 and that answer
  const option = prompt.options[0];
  const withRequest = renderChat(rt.model, rt.template, selfExplanationTurns(turns, option.letter, prompt, option, k)).tokens.length;
  const request = withRequest - promptTokens;
  const items = Math.max(1, k ?? ex.words.length);
  const unit = prompt.explainUnit;
  // the longest item the answer may hold: the text's longest word, or a span of at most the item limit
  const longestItem =
    unit === 'words' ? ex.words.reduce((a, w) => (w.text.length > a.length ? w.text : a), '') : ex.text.slice(0, DEFAULT_MAX_ITEM_CHARS.parts);
  const perItem = rt.model.tokenize(`[{ "rationales": ${JSON.stringify(longestItem)} }]`, false).length;
  const bound = config.selfExplanation.extractive
    ? extractiveMaxBytes('paper-list', items, jsonStringBytes(longestItem))
    : freeBudget(items, DEFAULT_MAX_ITEM_CHARS[unit]);
  return { request, bound, perItem };
}

/** The answer's tokens turn 1 keeps free after the prompt (protocol/classify.ts). */
function answerRoom(config: StudyConfig): number {
  const modes = new Set(config.models.map((m) => m.mode));
  return modes.size === 1 && modes.has('scoring') ? 8 : config.limits.maxNewTokens;
}

/** One example under the study on this model: the tokens it needs against the run's context. */
export function exampleFit(rt: FitRuntime, config: StudyConfig, ex: StoredExample, indicators?: Indicator[]): ExampleFit {
  const { prompt, rationale } = promptFor(config, ex, indicators);
  const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
  const promptTokens = renderChat(rt.model, rt.template, turns).tokens.length;
  const answer = answerRoom(config);
  // Room for turn 2's answer: at least one item as long as the text's longest in its JSON frame, in the model's
  // own tokens (never more than the grammar's own bound, self-explanation-budget.ts), so turn 2 can always
  // complete. More items take what the context has left: the runner gives turn 2 the room there is, and an
  // answer that runs out is stored as truncated with its reason. Asking room for all k items at the byte
  // bound refused texts that run fine (a demo paragraph "needed" 2,776 tokens for a 461-token prompt).
  const t2 = turn2Room(rt, config, ex, prompt, rationale, turns, promptTokens);
  const turn2 = t2 ? t2.request + Math.min(t2.bound, t2.perItem) : 0;
  const need = promptTokens + answer + turn2;
  return { promptTokens, need, context: rt.contextSize, fits: need <= rt.contextSize && promptTokens + 2 <= config.limits.maxContextTokens };
}

/** KV cells are allocated in multiples of this (llama.cpp pads the attended cells to 256). */
const CONTEXT_STEP = 256;
/** Slack for a turn-2 request rendered after another answer than the one-token estimate's. */
const REQUEST_SLACK = 16;

/**
 * The context a run creates: runContextSize (the model's own, at most the limits), or less when every example
 * of the run needs less. A 7B model's KV cache takes 0.5 MiB per token of context whether used or not
 * (runContextSize gave mSST sentences 3,612 tokens, 1.8 GiB, for prompts of ~100), so the context is sized to
 * what the run's longest example can use: turn 1's prompt, the longest answer turn 1 may generate, and turn 2's
 * request plus the grammar's whole bound (not just exampleFit's one item), so that turn 2 gets the same budget
 * as in the full context and no stored value changes (turn2Budget = min(room, bound) = bound either way).
 * Rounded up to 256 cells. Studies with self-consistency tests (their edits take what the context has left)
 * keep runContextSize. An example that does not fit keeps runContextSize too (its figures name that context).
 */
export function studyContextSize(trainContextSize: number, rt: Omit<FitRuntime, 'contextSize'>, config: StudyConfig, examples: readonly StoredExample[], indicators?: Indicator[]): number {
  const full = runContextSize(trainContextSize, config.limits);
  if (config.selfConsistency?.length) return full;
  let most = 0;
  for (const ex of examples) {
    const { prompt, rationale } = promptFor(config, ex, indicators);
    const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
    const promptTokens = renderChat(rt.model, rt.template, turns).tokens.length;
    // the answer as generated (the most turn 1 may produce), then turn 2's request and its whole budget
    const t2 = turn2Room({ ...rt, contextSize: full }, config, ex, prompt, rationale, turns, promptTokens);
    const uses = promptTokens + config.limits.maxNewTokens + (t2 ? t2.request + REQUEST_SLACK + t2.bound : 0);
    if (uses >= full) return full;
    most = Math.max(most, uses);
  }
  return Math.min(full, Math.ceil(Math.max(most, 1) / CONTEXT_STEP) * CONTEXT_STEP);
}

/** What truncation did to an example, recorded with its result. */
export interface Truncation {
  originalChars: number;
  keptChars: number;
  originalWords: number;
  keptWords: number;
  /** Human rationale spans that began after the cut (dropped); spans across it are cut with the text. */
  droppedRationaleSpans: number;
  /** Tokens the whole example needed, and what the cut one needs. */
  originalNeed: number;
  need: number;
}

/** The example cut after its first `n` words (rationale cut with it). */
export function cutAfterWords(ex: StoredExample, n: number): { example: StoredExample; dropped: number } {
  const cut = ex.words[n - 1].end;
  const spans: RationaleSpan[] = [];
  let dropped = 0;
  for (const s of ex.rationaleSpans) {
    if (s.start >= cut) dropped++;
    else spans.push({ ...s, end: Math.min(s.end, cut) });
  }
  const example: StoredExample = {
    ...ex,
    text: ex.text.slice(0, cut),
    words: ex.words.slice(0, n),
    rationaleMask: ex.rationaleMask ? ex.rationaleMask.slice(0, n) : null,
    rationaleSpans: spans,
    ...(ex.annotators ? { annotators: ex.annotators.map((a) => ({ ...a, values: a.values.slice(0, n) })) } : {}),
  };
  return { example, dropped };
}

/**
 * The longest prefix of the example, ending on a word boundary, whose protocol fits the context; null when not
 * even its first word does (the instructions alone fill the context). Binary search over word counts: the
 * need grows with every word kept.
 */
export function truncateToFit(rt: FitRuntime, config: StudyConfig, ex: StoredExample, indicators?: Indicator[]): { example: StoredExample; truncation: Truncation } | null {
  const whole = exampleFit(rt, config, ex, indicators);
  let lo = 0; // words known to fit (0: none known)
  let hi = ex.words.length; // words known not to fit
  let best: { example: StoredExample; dropped: number; fit: ExampleFit } | null = null;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const cut = cutAfterWords(ex, mid);
    const fit = exampleFit(rt, config, cut.example, indicators);
    if (fit.fits) {
      lo = mid;
      best = { ...cut, fit };
    } else hi = mid;
  }
  if (!best) return null;
  return {
    example: best.example,
    truncation: {
      originalChars: ex.text.length,
      keptChars: best.example.text.length,
      originalWords: ex.words.length,
      keptWords: best.example.words.length,
      droppedRationaleSpans: best.dropped,
      originalNeed: whole.need,
      need: best.fit.need,
    },
  };
}

/** An example that does not fit, as the fit check and a refusal list it. */
export interface TooLong {
  exampleId: number;
  externalId: string;
  /** Tokens the example needs (the whole protocol) and turn 1's prompt alone. */
  tokens: number;
  promptTokens: number;
  /** The context of the run. */
  context: number;
}

/** The examples of a study that do not fit one model's run. */
export function tooLongExamples(rt: FitRuntime, config: StudyConfig, examples: readonly StoredExample[], indicators?: Indicator[]): TooLong[] {
  const out: TooLong[] = [];
  for (const ex of examples) {
    const f = exampleFit(rt, config, ex, indicators);
    if (!f.fits) out.push({ exampleId: ex.id, externalId: ex.externalId, tokens: f.need, promptTokens: f.promptTokens, context: f.context });
  }
  return out;
}

/** "a6 (5,312 tokens), a9 (4,100 tokens) and 3 more" for messages. */
export function listTooLong(list: readonly TooLong[], cap = TOO_LONG_CAP): string {
  const shown = list.slice(0, cap).map((t) => `${t.externalId} (${t.tokens.toLocaleString('en')} tokens)`);
  const more = list.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** A study refused before it runs: texts too long for a model's context, and no choice made (limits.tooLong). */
export class TooLongError extends Error {
  constructor(
    readonly study: string,
    readonly byModel: { model: string; context: number; examples: TooLong[] }[],
  ) {
    super(
      `study "${study}" was not run: ${byModel
        .map((m) => `${m.examples.length} text${m.examples.length === 1 ? ' is' : 's are'} too long for ${m.model}'s context of ${m.context.toLocaleString('en')} tokens: ${listTooLong(m.examples)}`)
        .join('; ')}; choose what to do with them: limits.tooLong "skip" (left out, each stored as skipped with the reason) or "truncate" (cut to fit on a word boundary)`,
    );
    this.name = 'TooLongError';
  }
}
