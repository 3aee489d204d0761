import { Template } from '@huggingface/jinja';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { tokenCharSpans, type TokenCharSpan } from './offsets';
import type { PromptPiece, Segment } from './prompts';

/** A conversation turn: user turns are built from labelled pieces; model turns are answer text. */
export type ChatTurn = { role: 'user'; pieces: PromptPiece[] } | { role: 'model'; text: string };

export interface PromptToken extends TokenCharSpan {
  segment: Segment;
  /** Which turn the token's segment belongs to (-1 for template tokens). */
  turn: number;
}

export interface RenderedChat {
  /** Exactly the tokens the model evaluates (BOS included when the template writes it). */
  tokens: Token[];
  /** detokenize(tokens) with special tokens as text: the string every offset below refers to. */
  full: string;
  promptTokens: PromptToken[];
  /** Character ranges of every piece in `full`, in order. */
  pieces: Array<{ segment: Segment; turn: number; start: number; end: number }>;
  /**
   * The template's thinking switch (Qwen 3's `enable_thinking`): `off` when the template has one (the protocol
   * always renders with thinking off: the study asks for a direct answer), null when it has none.
   */
  thinking: 'off' | null;
}

/** Whether a chat template reads a thinking switch (Qwen 3: `enable_thinking`). */
export function hasThinkingSwitch(template: string): boolean {
  return /\benable_thinking\b/.test(template);
}

/**
 * The thinking setting every prompt rendered with this template has (renderChat's `thinking`): 'off' when the
 * template has the switch, null when it has none. Runs record it with their settings, `predict --json` prints it.
 */
export function thinkingOf(template: string): 'off' | null {
  return hasThinkingSwitch(template) ? 'off' : null;
}

/** The model's own chat template (`tokenizer.chat_template`), or the override. */
export function chatTemplateOf(model: LlamaModel, override?: string): string {
  if (override) return override;
  const t = (model.fileInfo.metadata as { tokenizer?: { chat_template?: unknown } }).tokenizer?.chat_template;
  if (typeof t !== 'string' || t.length === 0) {
    throw new Error(`${model.filename ?? 'model'} has no chat template (tokenizer.chat_template); give one (command line: --template FILE, a Jinja chat template such as the model family's; in the app: choose one for the model on the Models screen)`);
  }
  return t;
}

/**
 * Render the conversation with the template's own Jinja code (as Hugging Face's apply_chat_template does)
 * and tokenize the whole string with special-token parsing, so the tokens are the ones the model was
 * trained to see. (node-llama-cpp's JinjaTemplateChatWrapper tokenizes each part separately, which for
 * SentencePiece vocabularies inserts an extra space before "[/INST]".) A last model turn is left open:
 * its text follows the generation prompt with no end-of-turn, so it can be continued or scored.
 */
export function renderChat(model: LlamaModel, template: string, turns: readonly ChatTurn[]): RenderedChat {
  const messages = turns.map((t) => ({
    role: t.role === 'user' ? 'user' : 'assistant',
    content: t.role === 'user' ? t.pieces.map((p) => p.text).join('') : t.text,
  }));
  const open = turns.length > 0 && turns[turns.length - 1].role === 'model' ? turns[turns.length - 1] : null;
  const closed = open ? messages.slice(0, -1) : messages;
  const tpl = new Template(template);
  let rendered = tpl.render({
    messages: closed,
    bos_token: model.tokens.bosString ?? '',
    eos_token: model.tokens.eosString ?? '',
    add_generation_prompt: true,
    // thinking off (Qwen 3: the generation prompt closes an empty <think></think> block); templates without the
    // switch ignore the variable
    enable_thinking: false,
  });
  if (open && open.role === 'model') rendered += open.text;

  // Special-token parsing is on for the template's markers; the pieces themselves must not smuggle any in.
  const tokens = model.tokenize(rendered, true);
  for (const turn of turns) {
    const texts = turn.role === 'user' ? turn.pieces.map((p) => p.text) : [turn.text];
    for (const t of texts) {
      const inner = model.tokenize(t, true).filter((x) => isControl(model, x));
      if (inner.length > 0) throw new Error(`prompt text contains special-token markup (${model.detokenize(inner, true)}); refusing to render it as control tokens`);
    }
  }
  const { full, spans } = tokenCharSpans(model, tokens, true);

  // Locate each piece, in order, in the decoded prompt.
  const pieces: RenderedChat['pieces'] = [];
  let cursor = 0;
  turns.forEach((turn, turnIndex) => {
    const parts: Array<{ segment: Segment; text: string }> =
      turn.role === 'user' ? turn.pieces : [{ segment: 'answer', text: turn.text }];
    for (const p of parts) {
      if (p.text.length === 0) continue;
      let at = full.indexOf(p.text, cursor);
      let len = p.text.length;
      if (at < 0) {
        // Templates may strip a message; its inner pieces then lose edge whitespace.
        const trimmed = p.text.trim();
        at = trimmed ? full.indexOf(trimmed, cursor) : -1;
        len = trimmed.length;
      }
      if (at < 0) throw new Error(`the chat template dropped or rewrote part of turn ${turnIndex + 1}: ${JSON.stringify(p.text.slice(0, 60))}`);
      pieces.push({ segment: p.segment, turn: turnIndex, start: at, end: at + len });
      cursor = at + len;
    }
  });

  const promptTokens = spans.map((s) => ({ ...s, ...segmentOf(s, pieces, full) }));
  return { tokens, full, promptTokens, pieces, thinking: thinkingOf(template) };
}

function isControl(model: LlamaModel, token: Token): boolean {
  const attrs = model.getTokenAttributes(token);
  return attrs.control;
}

/**
 * A token belongs to the piece holding its first non-space character. A token that merges across a
 * boundary into the text (", great" after "review:") counts as text when any non-space character of it
 * is text, so the text's tokens always cover the whole text.
 */
function segmentOf(s: TokenCharSpan, pieces: RenderedChat['pieces'], full: string): { segment: Segment; turn: number } {
  const slice = full.slice(s.start, s.end);
  for (const p of pieces) {
    if (p.segment !== 'text') continue;
    const a = Math.max(s.start, p.start);
    const b = Math.min(s.end, p.end);
    if (a < b && (/\S/u.test(full.slice(a, b)) || (s.start >= p.start && s.start < p.end))) return { segment: 'text', turn: p.turn };
  }
  const firstNonSpace = s.start + Math.max(0, slice.search(/\S/u));
  const probe = s.start === s.end ? s.start : firstNonSpace;
  for (const p of pieces) {
    if (probe >= p.start && probe < p.end) return { segment: p.segment, turn: p.turn };
  }
  return { segment: 'template', turn: -1 };
}

/** Text tokens of `turn` with their spans relative to that turn's text piece (clipped to it). */
export function textTokens(chat: RenderedChat, turn = 0): Array<{ index: number; id: number; text: string; start: number; end: number }> {
  const piece = chat.pieces.find((p) => p.segment === 'text' && p.turn === turn);
  if (!piece) return [];
  const out: Array<{ index: number; id: number; text: string; start: number; end: number }> = [];
  chat.promptTokens.forEach((t, index) => {
    if (t.segment !== 'text' || t.turn !== turn) return;
    const start = Math.min(Math.max(t.start, piece.start), piece.end) - piece.start;
    const end = Math.min(Math.max(t.end, piece.start), piece.end) - piece.start;
    out.push({ index, id: t.id, text: t.text, start, end });
  });
  return out;
}
