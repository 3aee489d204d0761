import type { LlamaGrammar, Token } from 'node-llama-cpp';
import { splitWords } from '../datasets/words';
import { renderChat, type ChatTurn, type RenderedChat } from './chat';
import type { ProtocolRuntime } from './classify';
import { extractiveMaxBytes, freeBudget, jsonStringBytes } from './self-explanation-budget';
import { generate, type SamplingOptions } from './infer';
import type { AnswerOption, TaskPrompt } from './prompts';

/** 'paper-list': [{"rationales": "..."}, ...] as the paper asked; 'object': {"rationales": ["...", ...]}. */
export type SelfExplanationShape = 'paper-list' | 'object';

export interface SelfExplanationOptions {
  /** At most k items (from the human rationale, a fixed number); null = free (capped at the text's word count). */
  k: number | null;
  shape: SelfExplanationShape;
  /** Items can only be words (or, for 'parts' tasks, contiguous spans) of the input text. */
  extractive: boolean;
  sampling: SamplingOptions;
  /**
   * Longest item (characters): the schema's maxLength in free mode, the longest span in extractive 'parts'
   * mode (a single word is always admitted). Default DEFAULT_MAX_ITEM_CHARS. With k it sets the budget.
   */
  maxItemChars?: number;
  /**
   * Turn-2 token limit instead of the derived budget (explain-budget.ts). Below the grammar's bound an
   * output can stop early: it is then 'truncated', with the limit in `error`, and gives no items.
   */
  maxNewTokens?: number;
  signal?: AbortSignal;
}

export interface SelfExplanation {
  /** 'ok': parsed; 'truncated': the token budget or context ran out before the grammar completed. */
  status: 'ok' | 'truncated' | 'unparsed';
  raw: string;
  items: string[];
  error?: string;
  tokens: Token[];
  chat: RenderedChat;
  /** The token limit generation ran under (0 when it did not run). */
  budget: number;
}

/** The turn-2 conversation: turn 1, the model's answer, and the request for evidence. */
export function selfExplanationTurns(turn1: readonly ChatTurn[], answerText: string, prompt: TaskPrompt, option: AnswerOption, k: number | null): ChatTurn[] {
  return [...turn1, { role: 'model', text: answerText }, { role: 'user', pieces: [{ segment: 'instruction', text: prompt.explainRequest(option, k) }] }];
}

function gbnfLiteral(jsonContent: string): string {
  return JSON.stringify(jsonContent);
}

/** Escaped as it must appear inside a JSON string, then as a GBNF literal. */
function jsonStringBody(s: string): string {
  return gbnfLiteral(JSON.stringify(s).slice(1, -1));
}

/** Default longest item: words in free mode; spans ('parts') in free and extractive mode. */
export const DEFAULT_MAX_ITEM_CHARS = { words: 40, parts: 300 } as const;

/** An extractive grammar and the longest item it admits (JSON-escaped UTF-8 bytes), for the token budget. */
export interface ExtractiveGrammarSpec {
  grammar: string;
  maxItemBytes: number;
}

/**
 * GBNF whose strings can only be words of `text` (unit 'words', edge punctuation removed) or contiguous
 * spans of it (unit 'parts': word i optionally followed by the original separator and word i+1, ...).
 * A span is at most `maxSpanChars` characters long (a single word always admitted), so that, like the
 * free mode's schema maxLength, it bounds each item and with k the whole turn (explain-budget.ts).
 */
export function extractiveGrammarSpec(text: string, unit: 'words' | 'parts', shape: SelfExplanationShape, maxItems: number, maxSpanChars: number = DEFAULT_MAX_ITEM_CHARS.parts): ExtractiveGrammarSpec {
  const words = splitWords(text);
  if (words.length === 0) throw new Error('extractive self-explanation needs a non-empty text');
  const rules: string[] = [];
  let maxItemBytes = 0;
  if (unit === 'words') {
    const forms = [...new Set(words.map((w) => w.text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '') || w.text))];
    rules.push(`span ::= ${forms.map(jsonStringBody).join(' | ')}`);
    maxItemBytes = Math.max(...forms.map(jsonStringBytes));
  } else if (words[words.length - 1].end - words[0].start <= maxSpanChars) {
    // every span fits: one chain of rules, w_i = word i, then optionally the separator and w_{i+1}
    words.forEach((w, i) => {
      const next = words[i + 1];
      rules.push(next ? `w${i} ::= ${jsonStringBody(w.text)} (${jsonStringBody(text.slice(w.end, next.start))} w${i + 1})?` : `w${i} ::= ${jsonStringBody(w.text)}`);
      maxItemBytes = Math.max(maxItemBytes, jsonStringBytes(text.slice(w.start, words[words.length - 1].end)));
    });
    rules.push(`span ::= ${words.map((_, i) => `w${i}`).join(' | ')}`);
  } else {
    // a chain per start word s: s_i continues to word i+1 only while the span from s stays within the cap
    words.forEach((ws, s) => {
      let i = s;
      for (; ; i++) {
        const next = words[i + 1];
        const more = next !== undefined && next.end - ws.start <= maxSpanChars;
        rules.push(more ? `s${s}x${i} ::= ${jsonStringBody(words[i].text)} (${jsonStringBody(text.slice(words[i].end, next.start))} s${s}x${i + 1})?` : `s${s}x${i} ::= ${jsonStringBody(words[i].text)}`);
        if (!more) break;
      }
      maxItemBytes = Math.max(maxItemBytes, jsonStringBytes(text.slice(ws.start, words[i].end)));
    });
    rules.push(`span ::= ${words.map((_, s) => `s${s}x${s}`).join(' | ')}`);
  }
  const more = maxItems > 1 ? `("," ws item){0,${maxItems - 1}}` : '';
  const item = shape === 'paper-list' ? `item ::= "{" ws "\\"rationales\\":" ws "\\"" span "\\"" ws "}"` : `item ::= "\\"" span "\\""`;
  const list = `"[" ws (item ${more})? ws "]"`;
  const root = shape === 'paper-list' ? `root ::= ${list}` : `root ::= "{" ws "\\"rationales\\":" ws ${list} ws "}"`;
  return { grammar: [root, item, 'ws ::= [ \\n]?', ...rules].join('\n'), maxItemBytes };
}

/** The extractive grammar's text (see extractiveGrammarSpec). */
export function extractiveGrammar(text: string, unit: 'words' | 'parts', shape: SelfExplanationShape, maxItems: number, maxSpanChars?: number): string {
  return extractiveGrammarSpec(text, unit, shape, maxItems, maxSpanChars).grammar;
}

function schemaFor(shape: SelfExplanationShape, maxItems: number, maxLength: number) {
  const str = { type: 'string', maxLength } as const;
  return shape === 'paper-list'
    ? ({ type: 'array', items: { type: 'object', properties: { rationales: str } }, maxItems } as const)
    : ({ type: 'object', properties: { rationales: { type: 'array', items: str, maxItems } } } as const);
}

/** Items from a parsed self-explanation of either shape; anything else is an error naming what was found. */
export function itemsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : (value as { rationales?: unknown })?.rationales;
  if (!Array.isArray(list)) throw new Error(`expected a list or {"rationales": [...]}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  return list.map((x) => {
    // Free-text answers also used "rationale" or "word"; the grammar-constrained ones always say "rationales".
    const o = x as Record<string, unknown> | null;
    const v = typeof x === 'string' ? x : (o?.rationales ?? o?.rationale ?? o?.words ?? o?.word);
    if (Array.isArray(v)) return v.join(', ');
    if (typeof v !== 'string') throw new Error(`item ${JSON.stringify(x)?.slice(0, 60)} has no string "rationales"`);
    return v;
  });
}

/**
 * Read a free-text self-explanation without a second model: the first JSON array or object in the answer
 * ("Sure! Here is the list...: [ ... ]" was how Llama-2 answered), else null.
 */
export function extractJson(raw: string): unknown | null {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '[' && raw[i] !== '{') continue;
    for (let j = raw.lastIndexOf(raw[i] === '[' ? ']' : '}'); j > i; j = raw.lastIndexOf(raw[i] === '[' ? ']' : '}', j - 1)) {
      try {
        return JSON.parse(raw.slice(i, j + 1));
      } catch {
        /* try a shorter candidate */
      }
    }
  }
  return null;
}

/** Turn 2: a grammar-constrained self-explanation in the same conversation. */
export async function selfExplain(rt: ProtocolRuntime, turns: readonly ChatTurn[], text: string, unit: 'words' | 'parts', opts: SelfExplanationOptions): Promise<SelfExplanation> {
  const chat = renderChat(rt.model, rt.template, turns);
  const maxItems = Math.max(1, opts.k ?? splitWords(text).length);
  const maxLength = opts.maxItemChars ?? DEFAULT_MAX_ITEM_CHARS[unit];
  let grammar: LlamaGrammar;
  let parse: (raw: string) => unknown;
  let bound: number;
  if (opts.extractive) {
    const spec = extractiveGrammarSpec(text, unit, opts.shape, maxItems, maxLength);
    grammar = await rt.llama.createGrammar({ grammar: spec.grammar });
    parse = (raw) => JSON.parse(raw);
    bound = extractiveMaxBytes(opts.shape, maxItems, spec.maxItemBytes);
  } else {
    const g = await rt.llama.createGrammarForJsonSchema(schemaFor(opts.shape, maxItems, maxLength) as never);
    grammar = g;
    parse = (raw) => g.parse(raw);
    bound = freeBudget(maxItems, maxLength);
  }
  const room = rt.sequence.contextSize - chat.tokens.length;
  const budget = Math.min(room, opts.maxNewTokens ?? bound);
  if (budget <= 8) {
    return { status: 'truncated', raw: '', items: [], error: `no room left in the context (${chat.tokens.length} of ${rt.sequence.contextSize} tokens used)`, tokens: [], chat, budget: 0 };
  }
  // JSON grammars admit trailing whitespace without end; a random model can pad until the budget runs
  // out. Stop at the first whitespace token after which the text is already a complete JSON value.
  const isComplete = (toks: readonly Token[]) => {
    const last = rt.model.detokenize([toks[toks.length - 1]], false);
    if (/\S/u.test(last)) return false;
    try {
      JSON.parse(rt.model.detokenize(toks, false));
      return true;
    } catch {
      return false;
    }
  };
  const gen = await generate(rt.sequence, rt.model, chat.tokens, { sampling: opts.sampling, maxNewTokens: budget, grammar, signal: opts.signal, isComplete });
  const raw = rt.model.detokenize(gen.tokens, false, chat.tokens.slice(-8)).trim();
  if (gen.stop === 'length') {
    // The last admitted token can complete the value exactly at the limit (the extractive bound is
    // tight): then it parses and is whole. Anything else is cut off and is never read into items (a
    // partial list can end in a partial word that aligns somewhere else).
    try {
      return { status: 'ok', raw, items: itemsOf(parse(raw)), tokens: gen.tokens, chat, budget };
    } catch {
      /* incomplete */
    }
    const why = budget === room && room < (opts.maxNewTokens ?? bound) ? `the context's remaining ${room} tokens` : `the turn-2 budget of ${budget} tokens`;
    return { status: 'truncated', raw, items: [], error: `stopped at ${why} before the JSON was complete`, tokens: gen.tokens, chat, budget };
  }
  try {
    return { status: 'ok', raw, items: itemsOf(parse(raw)), tokens: gen.tokens, chat, budget };
  } catch (e) {
    // grammar.parse can throw on odd byte sequences; report it, never guess.
    return { status: 'unparsed', raw, items: [], error: (e as Error).message, tokens: gen.tokens, chat, budget };
  }
}
