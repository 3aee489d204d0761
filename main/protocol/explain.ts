import type { LlamaGrammar, Token } from 'node-llama-cpp';
import { splitWords } from '../datasets/words';
import { renderChat, type ChatTurn, type RenderedChat } from './chat';
import type { ProtocolRuntime } from './classify';
import { generate, type SamplingOptions } from './infer';
import type { AnswerOption, TaskPrompt } from './prompts';

/** 'paper-list': [{"rationales": "..."}, ...] as the paper asked; 'object': {"rationales": ["...", ...]}. */
export type ExplainShape = 'paper-list' | 'object';

export interface ExplainOptions {
  /** At most k items (from the human rationale, a fixed number); null = free (capped at the text's word count). */
  k: number | null;
  shape: ExplainShape;
  /** Items can only be words (or, for 'parts' tasks, contiguous spans) of the input text. */
  extractive: boolean;
  sampling: SamplingOptions;
  /** Longest item the schema grammar admits (characters); bounds generation so it always completes. */
  maxItemChars?: number;
  signal?: AbortSignal;
}

export interface ExplainResult {
  /** 'ok': parsed; 'truncated': the token budget or context ran out before the grammar completed. */
  status: 'ok' | 'truncated' | 'unparsed';
  raw: string;
  items: string[];
  error?: string;
  tokens: Token[];
  chat: RenderedChat;
}

/** The turn-2 conversation: turn 1, the model's answer, and the request for evidence. */
export function explainTurns(turn1: readonly ChatTurn[], answerText: string, prompt: TaskPrompt, option: AnswerOption, k: number | null): ChatTurn[] {
  return [...turn1, { role: 'model', text: answerText }, { role: 'user', pieces: [{ segment: 'instruction', text: prompt.explainRequest(option, k) }] }];
}

function gbnfLiteral(jsonContent: string): string {
  return JSON.stringify(jsonContent);
}

/** Escaped as it must appear inside a JSON string, then as a GBNF literal. */
function jsonStringBody(s: string): string {
  return gbnfLiteral(JSON.stringify(s).slice(1, -1));
}

/**
 * GBNF whose strings can only be words of `text` (unit 'words', edge punctuation removed) or contiguous
 * spans of it (unit 'parts': rule w_i is word i optionally followed by the original separator and w_{i+1}).
 */
export function extractiveGrammar(text: string, unit: 'words' | 'parts', shape: ExplainShape, maxItems: number): string {
  const words = splitWords(text);
  if (words.length === 0) throw new Error('extractive self-explanation needs a non-empty text');
  const rules: string[] = [];
  if (unit === 'words') {
    const forms = [...new Set(words.map((w) => w.text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '') || w.text))];
    rules.push(`span ::= ${forms.map(jsonStringBody).join(' | ')}`);
  } else {
    words.forEach((w, i) => {
      const next = words[i + 1];
      rules.push(next ? `w${i} ::= ${jsonStringBody(w.text)} (${jsonStringBody(text.slice(w.end, next.start))} w${i + 1})?` : `w${i} ::= ${jsonStringBody(w.text)}`);
    });
    rules.push(`span ::= ${words.map((_, i) => `w${i}`).join(' | ')}`);
  }
  const more = maxItems > 1 ? `("," ws item){0,${maxItems - 1}}` : '';
  const item = shape === 'paper-list' ? `item ::= "{" ws "\\"rationales\\":" ws "\\"" span "\\"" ws "}"` : `item ::= "\\"" span "\\""`;
  const list = `"[" ws (item ${more})? ws "]"`;
  const root = shape === 'paper-list' ? `root ::= ${list}` : `root ::= "{" ws "\\"rationales\\":" ws ${list} ws "}"`;
  return [root, item, 'ws ::= [ \\n]?', ...rules].join('\n');
}

function schemaFor(shape: ExplainShape, maxItems: number, maxLength: number) {
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
export async function explain(rt: ProtocolRuntime, turns: readonly ChatTurn[], text: string, unit: 'words' | 'parts', opts: ExplainOptions): Promise<ExplainResult> {
  const chat = renderChat(rt.model, rt.template, turns);
  const maxItems = Math.max(1, opts.k ?? splitWords(text).length);
  const maxLength = opts.maxItemChars ?? (unit === 'words' ? 40 : 300);
  let grammar: LlamaGrammar;
  let parse: (raw: string) => unknown;
  if (opts.extractive) {
    grammar = await rt.llama.createGrammar({ grammar: extractiveGrammar(text, unit, opts.shape, maxItems) });
    parse = (raw) => JSON.parse(raw);
  } else {
    const g = await rt.llama.createGrammarForJsonSchema(schemaFor(opts.shape, maxItems, maxLength) as never);
    grammar = g;
    parse = (raw) => g.parse(raw);
  }
  // Budget: every character of every item as its own token (byte-fallback can need more; then 'truncated').
  const longest = opts.extractive ? text.length : maxLength;
  const budget = Math.min(rt.sequence.contextSize - chat.tokens.length, 16 + maxItems * (longest + 24));
  if (budget <= 8) {
    return { status: 'truncated', raw: '', items: [], error: `no room left in the context (${chat.tokens.length} of ${rt.sequence.contextSize} tokens used)`, tokens: [], chat };
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
  if (gen.stop === 'length') return { status: 'truncated', raw, items: [], error: `stopped after ${budget} tokens before the JSON was complete`, tokens: gen.tokens, chat };
  try {
    return { status: 'ok', raw, items: itemsOf(parse(raw)), tokens: gen.tokens, chat };
  } catch (e) {
    // grammar.parse can throw on odd byte sequences; report it, never guess.
    return { status: 'unparsed', raw, items: [], error: (e as Error).message, tokens: gen.tokens, chat };
  }
}
