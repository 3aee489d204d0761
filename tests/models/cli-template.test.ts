import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { cliInProcess } from '../fixtures/cli-in-process';
import { shared } from '../api/helpers';

/**
 * The command line's side of a GGUF without a chat template (issue 12 item 1): `run` refuses a study with
 * such a model before any run exists, naming `models template ... --template FILE`; once a template is chosen
 * for the registered model (`models template`, or the Models screen: the same stored choice), `run` of a study
 * that names the same file renders with it and completes, and `predict --study` of a study naming it by id uses it.
 */
describe('CLI: a registered model without a chat template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-cli-tpl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'wb.sqlite');
  const model = join(dir, 'stories-copy.gguf');
  copyFileSync(join(shared, 'models/stories260K.gguf'), model);
  const study = join(dir, 'study.json');
  writeFileSync(study, JSON.stringify({
    name: 'stories cli',
    task: { kind: 'sentiment' },
    dataset: { builtin: 'demo-sentiment-en' },
    models: [{ path: model, mode: 'scoring', gpuLayers: 'auto' }],
    seeds: [28],
    explanations: ['human', 'random'],
    onlyCorrect: false,
    limits: { maxExamples: 1, threads: 1 },
  }));

  it('run refuses it before any run, naming models template and --template; after models template --family llama2 it runs', async () => {
    const refused = await cliInProcess(['--db', db, 'run', study]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: model "stories-copy\.gguf" \(id 1\) cannot be used: it has no chat template \(tokenizer\.chat_template\); choose one for it on the Models screen .* or on the command line: models template 1 --family NAME \| --template FILE\n$/);
    const store = openStore(db);
    expect(store.runs.list()).toEqual([]);
    store.close();

    // a template that does not render is refused, nothing stored
    const bad = join(dir, 'bad.jinja');
    writeFileSync(bad, '{% for m in messages %}{{ m.content }');
    const refusedTpl = await cliInProcess(['--db', db, 'models', 'template', '1', '--template', bad]);
    expect(refusedTpl.code).toBe(1);
    expect(refusedTpl.err).toMatch(/^error: template: the chat template does not render a two-turn chat: /);

    const chose = await cliInProcess(['--db', db, 'models', 'template', '1', '--family', 'llama2']);
    expect(chose.code, chose.err).toBe(0);
    expect(chose.out).toMatch(/^model 1: chat template llama2; a two-turn chat renders as:\n<s> ?\[INST\] Is this review/);

    const ran = await cliInProcess(['--db', db, 'run', study]);
    expect(ran.code, ran.err).toBe(0);
    const after = openStore(db);
    const runs = after.runs.list();
    expect(runs.map((r) => r.status)).toEqual(['done']);
    const [result] = after.results.list(runs[0].id, { relevance: false });
    expect((result.tokens ?? []).map((t) => t.text).join('')).toContain('[/INST]');
    after.close();

    // predict with a study naming the registered model by id renders with the chosen template too
    const byId = join(dir, 'study-by-id.json');
    writeFileSync(byId, JSON.stringify({ name: 'by id', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ id: 1, mode: 'scoring' }], limits: { threads: 1 } }));
    const predicted = await cliInProcess(['--db', db, 'predict', '--study', byId, '--text', 'A fine film.', '--json']);
    expect(predicted.code, predicted.err).toBe(0);
    expect((JSON.parse(predicted.out) as { prompt: string }).prompt).toMatch(/^<s> ?\[INST\] [\s\S]*A fine film\.[\s\S]* \[\/INST\]$/);
  }, 180_000);
});
