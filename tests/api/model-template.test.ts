import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry, StudyValidation, TemplateFamilyInfo, TemplatePreview } from '../../main/api/catalogue';
import { generateModel } from '../../main/gguf/generate';
import type { RunRecord, StudyRecord } from '../../main/store/types';
import { ok, shared, tempWorkbench } from './helpers';

/**
 * A GGUF without a chat template (issue 12 item 1): ../shared/models/stories260K.gguf has none. Until a
 * template is chosen for it on the Models screen, a study with it is refused by validation, save and start,
 * naming the model and the Models screen, before any model runs; once a family is chosen (stored with the
 * model), the prompt preview shows that family's markers and a study run completes.
 */
describe('API: a model without a chat template, then with a chosen one', () => {
  const t = tempWorkbench();
  let model: ModelEntry;
  const config = (modelId: number, extra: Record<string, unknown> = {}) => ({
    name: 'stories',
    task: { kind: 'sentiment' },
    language: 'en',
    dataset: { builtin: 'demo-sentiment-en' },
    models: [{ id: modelId, mode: 'scoring', ...extra }],
    seeds: [28],
    explanations: ['human', 'self', 'random'],
    onlyCorrect: false,
    limits: { maxExamples: 2, threads: 1 },
  });

  beforeAll(async () => {
    // the analyst's own file name for it
    const mine = join(t.dir, 'my-stories.gguf');
    copyFileSync(join(shared, 'models/stories260K.gguf'), mine);
    ok(await t.wb.call('registerModel', { file: t.upload(mine) }));
    model = (ok(await t.wb.call('listModels', {})) as ModelEntry[])[0];
  }, 120_000);
  afterAll(() => t.cleanup());

  it('lists the model as having no usable template, naming it and the Models screen', () => {
    expect(model.chatTemplate).toBeNull();
    expect(model.templateChoice).toBeNull();
    expect(model.template.source).toBe('none');
    expect(model.template.problem).toBe(
      `model "my-stories.gguf" (id ${model.id}) cannot be used: it has no chat template (tokenizer.chat_template); choose one for it on the Models screen (a family such as Llama 2 or a custom Jinja text) or on the command line: models template ${model.id} --family NAME | --template FILE`,
    );
  });

  it('refuses the study in validation, save and start, before any model runs', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: config(model.id) })) as StudyValidation;
    expect(v.ok).toBe(false);
    expect(v.fields['models[0].id']).toMatch(/^model "my-stories\.gguf" \(id \d+\) cannot be used: it has no chat template.*Models screen/);
    const saved = await t.wb.call('saveStudy', { name: 'stories', config: config(model.id) });
    expect(saved.ok).toBe(false);
    expect(!saved.ok && saved.error.fields?.['models[0].id']).toMatch(/Models screen/);
    // a study saved before the check (or by an older version): start refuses it at once, and makes no run
    const id = t.wb.store.studies.create('stories', config(model.id) as never);
    const started = await t.wb.call('startRun', { studyId: id });
    expect(started.ok).toBe(false);
    expect(!started.ok && started.error.message).toMatch(/my-stories\.gguf.*Models screen/);
    expect(t.wb.store.runs.list({ studyId: id })).toEqual([]);
    // the prompt preview says the same
    const preview = await t.wb.call('previewPrompt', { config: config(model.id) });
    expect(!preview.ok && preview.error.message).toMatch(/my-stories\.gguf.*Models screen/);
  });

  it('offers the known families', async () => {
    const families = ok(await t.wb.call('templateFamilies', {})) as TemplateFamilyInfo[];
    expect(families.map((f) => f.name)).toEqual(['Llama 2', 'Llama 3', 'Mistral', 'ChatML / Qwen', 'Gemma']);
  });

  it('refuses a custom template that does not render, with the error at the template field; stores nothing', async () => {
    const broken = await t.wb.call('setModelTemplate', { modelId: model.id, template: '{% for m in messages %}{{ m.content }' });
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error.code).toBe('invalid');
    expect(!broken.ok && broken.error.fields?.template).toMatch(/^does not render a two-turn chat: /);
    // renders, but drops the turns' text
    const empty = await t.wb.call('previewModelTemplate', { modelId: model.id, template: '{{ bos_token }}hello' });
    expect(!empty.ok && empty.error.fields?.template).toMatch(/dropped or rewrote part of turn 1/);
    const unknown = await t.wb.call('setModelTemplate', { modelId: model.id, family: 'llama9' });
    expect(!unknown.ok && unknown.error.fields?.family).toMatch(/unknown family; known: llama2 \(Llama 2\)/);
    const both = await t.wb.call('setModelTemplate', { modelId: model.id, family: 'llama2', template: 'x' });
    expect(!both.ok && both.error.fields?.template).toMatch(/exactly one/);
    expect(t.wb.store.models.get(model.id)!.templateChoice).toBeNull();
  });

  it('a template is text, never a path: a path given as the template is rendered as the text it is, the file unread', async () => {
    const secret = join(t.dir, 'secret.jinja');
    writeFileSync(secret, 'SECRET-MARK {% for m in messages %}{{ m.content }}{% endfor %}');
    const r = await t.wb.call('previewModelTemplate', { modelId: model.id, template: secret });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('SECRET-MARK');
    expect(!r.ok && r.error.fields?.template).toMatch(/dropped or rewrote part of turn 1/);
  });

  it('previews a family on the model\'s own vocabulary before saving, then stores it with the model', async () => {
    const p = ok(await t.wb.call('previewModelTemplate', { modelId: model.id, family: 'llama2' })) as TemplatePreview;
    expect(p.rendered).toContain('[INST] Is this review positive or negative? "A fine film." [/INST] positive </s>');
    expect(p.rendered).toContain('[INST] Which words of the review made you answer so? [/INST]');
    expect(p.markers).toEqual(['[INST]', '[/INST]']);
    expect(p.tokenCount).toBeGreaterThan(10);
    expect(t.wb.store.models.get(model.id)!.templateChoice).toBeNull(); // a preview stores nothing

    const r = ok(await t.wb.call('setModelTemplate', { modelId: model.id, family: 'llama2' })) as { model: ModelEntry };
    expect(r.model.template).toEqual({ source: 'chosen', family: 'llama2', problem: null });
    expect(r.model.templateChoice?.template).toMatch(/^\{% if messages\[0\]\['role'\] == 'system' %\}/);
  });

  it('then the study validates, its preview shows the template\'s markers, and a run completes', async () => {
    const v = ok(await t.wb.call('validateStudyConfig', { config: config(model.id) })) as StudyValidation;
    expect(v.fields).toEqual({});
    expect(v.ok).toBe(true);
    const preview = ok(await t.wb.call('previewPrompt', { config: config(model.id) })) as { prompt: string };
    // (the SentencePiece vocabulary decodes a space after BOS)
    expect(preview.prompt).toMatch(/^<s> ?\[INST\] [\s\S]* \[\/INST\]$/);
    const study = (ok(await t.wb.call('saveStudy', { name: 'stories', config: config(model.id) })) as { study: StudyRecord }).study;
    const run = await runToEnd(study.id);
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.progress).toEqual({ done: 2, total: 2 });
    // prediction, self-explanation and masked evaluation all rendered with the chosen template
    const results = t.wb.store.results.list(run.id, { relevance: false });
    expect(results).toHaveLength(2);
    for (const r of results) {
      const text = (r.tokens ?? []).map((x) => x.text).join('');
      expect(text).toContain('[INST]');
      expect(text).toContain('[/INST]');
    }
  }, 300_000);

  it('a study asking for GPU offload ("auto") runs here, on a machine without a GPU, on the CPU', async () => {
    const study = (ok(await t.wb.call('saveStudy', { name: 'stories gpu', config: config(model.id, { gpuLayers: 'auto' }) })) as { study: StudyRecord }).study;
    expect((study.config as { models: { gpuLayers?: unknown }[] }).models[0].gpuLayers).toBe('auto');
    const run = await runToEnd(study.id);
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.progress).toEqual({ done: 2, total: 2 });
    // on the CPU it is the CPU run: the same answers and probabilities, bit for bit, as the study without offload
    const cpuRun = t.wb.store.runs.list().find((r) => r.id !== run.id && r.status === 'done')!;
    const answers = (runId: number) => t.wb.store.results.list(runId, { relevance: false }).map((r) => [r.exampleId, r.label, r.answerProb]);
    expect(answers(run.id)).toEqual(answers(cpuRun.id));
  }, 300_000);

  it('a generated template-less model is refused the same way (generated by main/gguf/generate.ts)', async () => {
    const file = join(t.dir, 'plain.gguf');
    await generateModel({ path: file, arch: 'llama', seed: 7, nLayer: 1, nEmbd: 32, nHead: 2, nFf: 64, vocab: 'synthetic', chatTemplate: null });
    ok(await t.wb.call('registerModel', { file: t.upload(file) }));
    const plain = (ok(await t.wb.call('listModels', {})) as ModelEntry[]).find((m) => m.metadata.displayName === 'plain.gguf')!;
    expect(plain.template.source).toBe('none');
    const v = ok(await t.wb.call('validateStudyConfig', { config: config(plain.id) })) as StudyValidation;
    expect(v.fields['models[0].id']).toMatch(/^model "plain\.gguf" .*no chat template/);
    ok(await t.wb.call('setModelTemplate', { modelId: plain.id, family: 'chatml' }));
    const p = ok(await t.wb.call('previewPrompt', { config: config(plain.id) })) as { prompt: string };
    expect(p.prompt).toContain('<|im_start|>user\n');
    expect(p.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
  }, 120_000);

  async function runToEnd(studyId: number): Promise<RunRecord> {
    const { runIds } = ok(await t.wb.call('startRun', { studyId })) as { runIds: number[] };
    let run: RunRecord;
    const t0 = Date.now();
    do {
      await new Promise((r) => setTimeout(r, 250));
      run = ok(await t.wb.call('getRun', { runId: runIds[0] })) as RunRecord;
    } while ((run.status === 'running' || run.status === 'queued') && Date.now() - t0 < 280_000);
    return run;
  }
});
