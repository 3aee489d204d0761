import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTemplateChat } from '../../main/api/model-template';
import { CHAT_TEMPLATES } from '../../main/gguf/templates';
import { modelChatTemplate, TEMPLATE_FAMILIES, templateProblem, templateRenderProblem, templateStatus } from '../../main/protocol/template-families';
import { shared } from '../api/helpers';

/** The chat template families (issue 12 item 1): one list, each renders the two-turn test chat with its markers. */
describe('chat template families', () => {
  it('each family renders the two-turn test chat on a real vocabulary (stories260K), showing its markers', async () => {
    for (const f of TEMPLATE_FAMILIES) {
      expect(templateRenderProblem(f.template), f.id).toBeNull();
      const r = await renderTemplateChat({ path: join(shared, 'models/stories260K.gguf'), template: f.template, field: 'family' });
      for (const m of f.markers) expect(r.rendered, `${f.id} ${m}`).toContain(m);
      expect(r.rendered).toContain('Which words of the review made you answer so?');
    }
  }, 60_000);

  it('the families are the published texts the GGUF writer also uses (one copy)', () => {
    expect(TEMPLATE_FAMILIES.map((f) => f.template)).toEqual([CHAT_TEMPLATES.llama2, CHAT_TEMPLATES.llama3, CHAT_TEMPLATES.mistral, CHAT_TEMPLATES.chatml, CHAT_TEMPLATES.gemma]);
  });

  it('which template a model renders with: chosen first, else its own when it renders, else none', () => {
    const base = { id: 3, path: '/m/x.gguf', metadata: { displayName: 'x.gguf' } };
    expect(modelChatTemplate({ ...base, chatTemplate: CHAT_TEMPLATES.chatml, templateChoice: null })).toBe(CHAT_TEMPLATES.chatml);
    expect(modelChatTemplate({ ...base, chatTemplate: CHAT_TEMPLATES.chatml, templateChoice: { family: 'llama2', template: CHAT_TEMPLATES.llama2 } })).toBe(CHAT_TEMPLATES.llama2);
    // a file's own template that does not render is no template
    const broken = { ...base, chatTemplate: '{% if %}', templateChoice: null };
    expect(modelChatTemplate(broken)).toBeNull();
    expect(templateProblem(broken)).toMatch(/^model "x\.gguf" \(id 3\) cannot be used: its chat template does not render \(the template does not render a two-turn chat: .*\); choose one for it on the Models screen/);
    expect(templateStatus(broken)).toMatchObject({ source: 'none', family: null });
    expect(templateStatus({ ...base, chatTemplate: null, templateChoice: { family: null, template: '{{ messages[0].content }}' } })).toEqual({ source: 'chosen', family: null, problem: null });
  });
});
