/**
 * Chat templates for models whose GGUF carries none (or one that does not render): the known families a
 * user can choose for such a model, and the one rule for which template a registered model renders with.
 * The Jinja texts are the published ones (main/gguf/templates.ts, which the GGUF writer also uses).
 */
import { Template } from '@huggingface/jinja';
import { CHAT_TEMPLATES } from '../gguf/templates';

export interface TemplateFamily {
  id: TemplateFamilyId;
  /** As the Models screen lists it. */
  name: string;
  template: string;
  /** Text the family's template writes around each turn (the preview shows them). */
  markers: string[];
}

export const TEMPLATE_FAMILY_IDS = ['llama2', 'llama3', 'mistral', 'chatml', 'gemma'] as const;
export type TemplateFamilyId = (typeof TEMPLATE_FAMILY_IDS)[number];

export const TEMPLATE_FAMILIES: readonly TemplateFamily[] = [
  { id: 'llama2', name: 'Llama 2', template: CHAT_TEMPLATES.llama2, markers: ['[INST]', '[/INST]'] },
  { id: 'llama3', name: 'Llama 3', template: CHAT_TEMPLATES.llama3, markers: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] },
  { id: 'mistral', name: 'Mistral', template: CHAT_TEMPLATES.mistral, markers: ['[INST]', '[/INST]'] },
  { id: 'chatml', name: 'ChatML / Qwen', template: CHAT_TEMPLATES.chatml, markers: ['<|im_start|>', '<|im_end|>'] },
  { id: 'gemma', name: 'Gemma', template: CHAT_TEMPLATES.gemma, markers: ['<start_of_turn>', '<end_of_turn>'] },
];

export function templateFamily(id: string): TemplateFamily | undefined {
  return TEMPLATE_FAMILIES.find((f) => f.id === id);
}

/** What the user chose for a model: a family (its text recorded as chosen) or a custom Jinja text (family null). */
export interface TemplateChoice {
  family: TemplateFamilyId | null;
  template: string;
}

/** The parts of a registered model the rule reads (a ModelRecord has them). */
export interface TemplateHolder {
  id: number;
  path: string;
  chatTemplate: string | null;
  /** As stored: a family id the store does not check (string), or null for a custom text. */
  templateChoice: { family: string | null; template: string } | null;
  metadata: Record<string, unknown>;
}

/**
 * A short two-turn chat (user, model, user): what a chosen template must render, and what the Models
 * screen's preview shows. The protocol's own conversations have the same shape (question, answer, follow-up).
 */
export const TEST_CHAT = [
  { role: 'user' as const, text: 'Is this review positive or negative? "A fine film."' },
  { role: 'model' as const, text: 'positive' },
  { role: 'user' as const, text: 'Which words of the review made you answer so?' },
];

/**
 * Renders TEST_CHAT with a template's Jinja code alone (no vocabulary): null when it renders and keeps every
 * turn's text, else why not. Enough to tell whether a GGUF's own template is usable; a chosen template is
 * also rendered and tokenized with the model's own vocabulary before it is stored (api/model-template.ts).
 */
export function templateRenderProblem(template: string): string | null {
  let out: string;
  try {
    out = new Template(template).render({
      messages: TEST_CHAT.map((t) => ({ role: t.role === 'user' ? 'user' : 'assistant', content: t.text })),
      bos_token: '<s>',
      eos_token: '</s>',
      add_generation_prompt: true,
    });
  } catch (e) {
    return `the template does not render a two-turn chat: ${(e as Error).message}`;
  }
  const lost = TEST_CHAT.find((t) => !out.includes(t.text));
  return lost ? `the template drops or rewrites a turn of a two-turn chat (${JSON.stringify(lost.text)})` : null;
}

const displayName = (m: TemplateHolder) =>
  typeof m.metadata.displayName === 'string' ? m.metadata.displayName : m.path.split(/[\\/]/).pop() ?? m.path;

/**
 * The chat template a registered model renders with, everywhere (predictions, self-explanations, masked
 * evaluation, the prompt preview, CLI runs of that model): the one chosen for it on the Models screen,
 * else its GGUF's own when that renders; null when it has neither.
 */
export function modelChatTemplate(m: TemplateHolder): string | null {
  if (m.templateChoice) return m.templateChoice.template;
  if (m.chatTemplate && templateRenderProblem(m.chatTemplate) === null) return m.chatTemplate;
  return null;
}

/** Why a registered model cannot be used in a study (no usable chat template), naming it and where to fix it; null if it can. */
export function templateProblem(m: TemplateHolder): string | null {
  if (modelChatTemplate(m) !== null) return null;
  const why = m.chatTemplate ? `its chat template does not render (${templateRenderProblem(m.chatTemplate)})` : 'it has no chat template (tokenizer.chat_template)';
  return (
    `model "${displayName(m)}" (id ${m.id}) cannot be used: ${why}; choose one for it on the Models screen (a family such as Llama 2 or a custom Jinja text)` +
    ` or on the command line: models template ${m.id} --family NAME | --template FILE`
  );
}

/** How a model's template is described to the user (Models screen). */
export interface TemplateStatus {
  /** 'model': the GGUF's own; 'chosen': chosen on the Models screen; 'none': no usable template. */
  source: 'model' | 'chosen' | 'none';
  /** The chosen family's id, when one was chosen. */
  family: string | null;
  /** Why the model cannot be used yet (source 'none'). */
  problem: string | null;
}

export function templateStatus(m: TemplateHolder): TemplateStatus {
  if (m.templateChoice) return { source: 'chosen', family: m.templateChoice.family, problem: null };
  const problem = templateProblem(m);
  return problem ? { source: 'none', family: null, problem } : { source: 'model', family: null, problem: null };
}
