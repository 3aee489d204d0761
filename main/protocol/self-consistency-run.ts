/**
 * Runs a study's self-consistency tests on one example, after its turn 1 (and turn 2), on the local model,
 * and returns what the result stores under rawOutputs.selfConsistency. Prompts: self-consistency.ts;
 * verdicts: metrics/self-consistency.ts. Deterministic: the re-asked classifications use the study's
 * turn-1 sampling with the run's seed, the counterfactual edit is greedy (temperature 0) under the seed,
 * and the biased self-explanation uses the turn-2 sampling with the seed.
 * A test that cannot run (context too small, a text with special-token markup) is stored with its reason
 * (status 'skipped' / 'failed'), never left out silently; an abort is passed on.
 */
import type { Token } from 'node-llama-cpp';
import type { SelfConsistencyTest } from '../api/vocabulary';
import type { StudyConfig } from '../config/study-schema';
import type { StoredExample } from '../store/types';
import { biasingVerdict, counterfactualVerdict, editDistance, redactionVerdict, type ReAnswer } from '../metrics/self-consistency';
import { alignSelfExplanation, type AlignedSpan } from './align';
import { renderChat, textTokens, type ChatTurn } from './chat';
import { classify, type ClassifyMode, type ClassifyResult, type ProtocolRuntime } from './classify';
import { generate, type SamplingOptions } from './infer';
import type { Indicator } from './indicators';
import type { TaskPrompt } from './prompts';
import { biasedTurn1, biasingHint, counterfactualTurns, editOf, otherOption, redactText } from './self-consistency';
import { selfExplain, selfExplanationTurns } from './self-explanation';
import { promptFor } from './task';

/** A re-asked classification as stored: the answer, its probabilities, and why there is none. */
export interface StoredAnswer extends ReAnswer {
  response: string;
  answerProb: number | null;
  optionProbs: Record<string, number | null>;
  reason?: string;
}

export interface RedactionRecord {
  /** The redacted text the question was asked about. */
  text: string;
  /** The words of the text that were redacted (the matched self-explanation spans, merged). */
  redacted: string[];
  before: { label: string; prob: number };
  after: StoredAnswer;
  /** Probability of the original answer's option on the redacted text (null when the mode gives none). */
  pOriginalAfter: number | null;
  selfConsistent: boolean | null;
}

export interface CounterfactualRecord {
  target: string;
  request: string;
  /** The model's answer as generated, and as an edited text (editOf). */
  raw: string;
  edit: string;
  stop: string | null;
  editDistance: number | null;
  after: StoredAnswer;
  selfConsistent: boolean | null;
}

export interface BiasingRecord {
  hint: string;
  hinted: string;
  after: StoredAnswer;
  moved: boolean | null;
  /** The self-explanation asked under the hint (null when the answer was not valid). */
  explanation: { status: string; raw: string; items: string[]; error?: string } | null;
  /** Explanation items that name the hint (its words, not words of the text): the one matcher, align.ts. */
  mentioned: string[];
  mentions: boolean | null;
  unfaithful: boolean | null;
}

export interface SelfConsistencyRecord {
  redaction?: RedactionRecord | { status: 'skipped' | 'failed'; reason: string };
  counterfactual?: CounterfactualRecord | { status: 'skipped' | 'failed'; reason: string };
  biasing?: BiasingRecord | { status: 'skipped' | 'failed'; reason: string };
}

export interface SelfConsistencyInput {
  tests: readonly SelfConsistencyTest[];
  config: StudyConfig;
  example: StoredExample;
  indicators?: Indicator[];
  prompt: TaskPrompt;
  /** Turn 1 of the conversation and its classification (status ok). */
  turns: readonly ChatTurn[];
  cls: ClassifyResult;
  /** The self-explanation's matched spans in the text (redaction); null when there is none. */
  matched: readonly AlignedSpan[] | null;
  /** Turn 2's k (null = free), for the biased self-explanation. */
  k: number | null;
  mode: ClassifyMode;
  sampling: SamplingOptions;
  maxNewTokens: number;
  signal?: AbortSignal;
}

function stored(c: ClassifyResult): StoredAnswer {
  return {
    status: c.status,
    label: c.status === 'ok' ? c.label : null,
    response: c.responseText,
    answerProb: c.answer?.prob ?? null,
    optionProbs: c.optionProbs,
    ...(c.reason ? { reason: c.reason } : {}),
  };
}

/** Runs `f`, storing a thrown error as a failed test with its reason (an abort is passed on). */
async function guarded<T>(signal: AbortSignal | undefined, f: () => Promise<T>): Promise<T | { status: 'failed'; reason: string }> {
  try {
    return await f();
  } catch (e) {
    if (signal?.aborted) throw e;
    return { status: 'failed', reason: (e as Error).message };
  }
}

export async function runSelfConsistency(rt: ProtocolRuntime, a: SelfConsistencyInput): Promise<SelfConsistencyRecord> {
  const { cls, prompt, config } = a;
  if (cls.status !== 'ok' || !cls.option || !cls.answer) throw new Error('self-consistency tests need a valid turn-1 answer');
  const original = cls.option;
  const out: SelfConsistencyRecord = {};
  const ask = async (turns: ChatTurn[], p: TaskPrompt) =>
    classify(rt, renderChat(rt.model, rt.template, turns), turns, p, { mode: a.mode, sampling: a.sampling, maxNewTokens: a.maxNewTokens, signal: a.signal });
  const target = otherOption(prompt.options, original, cls.optionProbs);

  if (a.tests.includes('redaction')) {
    out.redaction = await guarded(a.signal, async () => {
      if (!a.matched || a.matched.length === 0) return { status: 'skipped' as const, reason: 'the self-explanation named no word of the text' };
      const red = redactText(a.example.text, a.matched);
      const p = promptFor(config, { ...a.example, text: red.text }, a.indicators).prompt;
      const c = await ask([{ role: 'user', pieces: p.turn1 }], p);
      const after = stored(c);
      return {
        text: red.text,
        redacted: red.spans.map((s) => a.example.text.slice(s.start, s.end)),
        before: { label: original.label, prob: cls.answer!.prob },
        after,
        pOriginalAfter: c.status === 'ok' ? (c.optionProbs[original.label] ?? null) : null,
        selfConsistent: redactionVerdict(original.label, after),
      } satisfies RedactionRecord;
    });
  }

  if (a.tests.includes('counterfactual')) {
    out.counterfactual = await guarded(a.signal, async () => {
      const turns = counterfactualTurns(a.turns, cls.responseText, prompt, target);
      const chat = renderChat(rt.model, rt.template, turns);
      const textLen = textTokens(chat).length;
      const room = rt.sequence.contextSize - chat.tokens.length;
      // an edit is about as long as the text: twice its tokens and some room for a changed phrase
      const budget = Math.min(room, 2 * textLen + 32);
      if (budget <= 8) return { status: 'skipped' as const, reason: `no room left in the context for the edit (${chat.tokens.length} of ${rt.sequence.contextSize} tokens used)` };
      const gen = await generate(rt.sequence, rt.model, chat.tokens, { sampling: { seed: a.sampling.seed, temperature: 0 }, maxNewTokens: budget, signal: a.signal });
      const raw = rt.model.detokenize(gen.tokens as Token[], false, chat.tokens.slice(-8));
      const edit = editOf(raw);
      let after: StoredAnswer;
      if (edit === '') after = { status: 'invalid', label: null, response: '', answerProb: null, optionProbs: {}, reason: 'the edit is empty' };
      else {
        const p = promptFor(config, { ...a.example, text: edit }, a.indicators).prompt;
        after = stored(await ask([{ role: 'user', pieces: p.turn1 }], p));
      }
      return {
        target: target.label,
        request: (turns[turns.length - 1] as { pieces: { text: string }[] }).pieces[0].text,
        raw,
        edit,
        stop: gen.stop,
        editDistance: editDistance(a.example.text, edit),
        after,
        selfConsistent: counterfactualVerdict(target.label, after),
      } satisfies CounterfactualRecord;
    });
  }

  if (a.tests.includes('biasing')) {
    out.biasing = await guarded(a.signal, async () => {
      const hint = biasingHint(prompt, target);
      const turns: ChatTurn[] = [{ role: 'user', pieces: biasedTurn1(prompt.turn1, hint) }];
      const c = await ask(turns, prompt);
      const after = stored(c);
      let explanation: BiasingRecord['explanation'] = null;
      let mentioned: string[] = [];
      let mentions: boolean | null = null;
      if (c.status === 'ok' && c.option) {
        // the explanation may name the hint: an extractive grammar admits the text's and the hint's words
        const ex = await selfExplain(rt, selfExplanationTurns(turns, c.responseText, prompt, c.option, a.k), `${a.example.text} ${hint}`, prompt.explainUnit, {
          k: a.k,
          shape: 'paper-list',
          extractive: config.selfExplanation.extractive,
          sampling: a.sampling,
          signal: a.signal,
        });
        explanation = { status: ex.status, raw: ex.raw, items: ex.items, ...(ex.error ? { error: ex.error } : {}) };
        if (ex.status === 'ok') {
          mentioned = hintMentions(a.example.text, hint, ex.items, config.selfExplanation.matching);
          mentions = mentioned.length > 0;
        }
      }
      return { hint, hinted: target.label, after, explanation, mentioned, mentions, ...biasingVerdict(original.label, target.label, after, mentions) } satisfies BiasingRecord;
    });
  }
  return out;
}

/**
 * The explanation's items that name the hint: items the study's matching rule (align.ts) finds in the
 * hint sentence but not in the text (a word the text also has is evidence from the text, not the hint).
 */
export function hintMentions(text: string, hint: string, items: readonly string[], rule: 'robust' | 'paper' = 'robust'): string[] {
  const inHint = alignSelfExplanation(hint, items, { rule });
  const inText = new Set(alignSelfExplanation(text, items, { rule }).matched.map((m) => m.item));
  return [...new Set(inHint.matched.map((m) => m.item).filter((i) => !inText.has(i)))];
}
