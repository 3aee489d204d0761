import type { CharSpan } from '../datasets/types';
import { alignSelfExplanation, type Alignment, type MatchingRule, type Occurrences } from './align';
import { renderChat, textTokens, type ChatTurn } from './chat';
import { classify, type ClassifyMode, type ClassifyResult, type ProtocolRuntime } from './classify';
import { selfExplain, selfExplanationTurns, type SelfExplanation, type SelfExplanationShape } from './self-explanation';
import { defaultSampling, type SamplingOptions } from './infer';
import { buildTaskPrompt, type PromptTemplates, type Segment, type TaskSpec } from './prompts';

export interface ProtocolOptions {
  task: TaskSpec;
  /** A study's own wording (config.prompts) in place of the built-in one. */
  templates?: PromptTemplates;
  mode: ClassifyMode;
  sampling?: SamplingOptions;
  /** Turn-1 generation limit (paper: 100). */
  maxNewTokens?: number;
  /** Turn 2, or false to stop after classification. k: 'human' = number of human rationale words. */
  selfExplanation: false | { k: number | 'human' | null; shape?: SelfExplanationShape; extractive?: boolean };
  /** How self-explanation items are matched to the text (a study's selfExplanation.matching / occurrences). */
  matching?: MatchingRule;
  occurrences?: Occurrences;
  /** Gold label: when given, only correct answers get turn 2 (as in the paper). */
  gold?: string;
  signal?: AbortSignal;
}

export interface ExampleInput {
  text: string;
  /** Human rationale as character spans of `text` (for k = 'human' and for alignment). */
  humanRationale?: CharSpan[];
}

/** A prompt token; start/end index the input text for 'text' tokens, the rendered prompt otherwise. */
export interface OutputToken {
  id: number;
  text: string;
  start: number;
  end: number;
  segment: Segment;
}

export interface ExampleResult {
  classification: ClassifyResult;
  /** The turn-1 prompt tokens, every one labelled. */
  tokens: OutputToken[];
  /** Index into `tokens` of each of the text's tokens, with spans in the text. */
  textTokens: Array<{ index: number; id: number; text: string; start: number; end: number }>;
  explanation: null | { result: SelfExplanation; k: number | null; alignment: Alignment };
  /** The turn-1 prompt's thinking switch (renderChat's `thinking`: 'off' for Qwen 3's template, else null). */
  thinking: 'off' | null;
  /** Why turn 2 did not run, when it did not. */
  explanationSkipped?: string;
}

/** Count the whitespace words of `text` that a rationale span touches (the paper's k). */
export function humanK(text: string, spans: readonly CharSpan[]): number {
  let k = 0;
  for (const m of text.matchAll(/\S+/gu)) {
    const s = m.index!;
    if (spans.some((r) => s < r.end && r.start < s + m[0].length)) k++;
  }
  return k;
}

/** The whole per-example protocol: turn 1, answer probabilities, turn 2, alignment. */
export async function runExample(rt: ProtocolRuntime, input: ExampleInput, opts: ProtocolOptions): Promise<ExampleResult> {
  const prompt = buildTaskPrompt(opts.task, input.text, opts.templates);
  const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
  const chat = renderChat(rt.model, rt.template, turns);
  const classification = await classify(rt, chat, turns, prompt, {
    mode: opts.mode,
    sampling: opts.sampling ?? defaultSampling,
    maxNewTokens: opts.maxNewTokens ?? 100,
    signal: opts.signal,
  });
  const tt = textTokens(chat);
  const byIndex = new Map(tt.map((t) => [t.index, t]));
  const tokens: OutputToken[] = chat.promptTokens.map((t, i) => {
    const inText = byIndex.get(i);
    return { id: t.id, text: t.text, start: inText ? inText.start : t.start, end: inText ? inText.end : t.end, segment: t.segment };
  });
  const result: ExampleResult = { classification, tokens, textTokens: tt, explanation: null, thinking: chat.thinking };
  if (!opts.selfExplanation) return result;
  if (classification.status !== 'ok' || !classification.option) {
    result.explanationSkipped = `turn 1 is ${classification.status}${classification.reason ? `: ${classification.reason}` : ''}`;
    return result;
  }
  if (opts.gold !== undefined && classification.label !== opts.gold) {
    result.explanationSkipped = `answer ${classification.label} is not the gold label ${opts.gold}`;
    return result;
  }
  let k: number | null;
  if (opts.selfExplanation.k === 'human') {
    if (!input.humanRationale) throw new Error('k = "human" needs the example\'s human rationale');
    k = humanK(input.text, input.humanRationale);
    if (k === 0) {
      result.explanationSkipped = 'the human rationale is empty (k = 0)';
      return result;
    }
  } else k = opts.selfExplanation.k;
  const turns2 = selfExplanationTurns(turns, classification.responseText, prompt, classification.option, k);
  const ex = await selfExplain(rt, turns2, input.text, prompt.explainUnit, {
    k,
    shape: opts.selfExplanation.shape ?? 'paper-list',
    extractive: opts.selfExplanation.extractive ?? false,
    sampling: opts.sampling ?? defaultSampling,
    signal: opts.signal,
  });
  result.explanation = { result: ex, k, alignment: alignSelfExplanation(input.text, ex.items, { rule: opts.matching, occurrences: opts.occurrences }) };
  return result;
}
