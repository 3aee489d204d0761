/**
 * Choosing a chat template for a registered model (Models screen): the argument (a family's name or a custom
 * Jinja text), and the two-turn test chat rendered with it and tokenized by the model's own vocabulary, the
 * check a choice must pass before it is stored and the preview the user sees before saving.
 */
import { loadVocabOnly } from '../models/session';
import { renderChat, type ChatTurn } from '../protocol/chat';
import { TEMPLATE_FAMILIES, TEST_CHAT, templateFamily, type TemplateChoice } from '../protocol/template-families';
import { ApiError } from './errors';

/** The catalogue's argument: exactly one of a family (by id) or a custom Jinja text. */
export interface TemplateArg {
  family?: string;
  template?: string;
}

/** The choice an argument names; an unknown family is a field problem naming the known ones. */
export function choiceOf(a: TemplateArg): TemplateChoice {
  if (a.family !== undefined) {
    const f = templateFamily(a.family);
    if (!f) {
      const known = TEMPLATE_FAMILIES.map((x) => `${x.id} (${x.name})`).join(', ');
      throw new ApiError('invalid', `family: unknown chat template family "${a.family}"; known: ${known}`, { family: `unknown family; known: ${known}` });
    }
    return { family: f.id, template: f.template };
  }
  return { family: null, template: a.template! };
}

export interface RenderedTemplate {
  /** The two-turn test chat as the model would see it (special tokens as text). */
  rendered: string;
  tokenCount: number;
}

/**
 * Renders the test chat with `template` exactly as a run renders its prompts (protocol/chat.ts renderChat:
 * the template's Jinja code, then the model's tokenizer with special tokens); a template that does not
 * render, or drops a turn's text, is refused with the reason at the field it came from.
 */
export async function renderTemplateChat(a: { path: string; template: string; field: 'family' | 'template' }): Promise<RenderedTemplate> {
  const model = await loadVocabOnly(a.path);
  try {
    const turns: ChatTurn[] = TEST_CHAT.map((t) => (t.role === 'user' ? { role: 'user', pieces: [{ segment: 'text', text: t.text }] } : { role: 'model', text: t.text }));
    // the model's answer is a closed turn here (the follow-up question comes after it): render all three closed
    let chat;
    try {
      chat = renderChat(model, a.template, [...turns, { role: 'model', text: '' }]);
    } catch (e) {
      const why = `does not render a two-turn chat: ${(e as Error).message}`;
      throw new ApiError('invalid', `${a.field}: the chat template ${why}`, { [a.field]: why });
    }
    return { rendered: chat.full, tokenCount: chat.tokens.length };
  } finally {
    await model.dispose();
  }
}
