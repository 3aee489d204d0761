// A malformed model (stories260K with head_count = 0, made by mutating the real file) is refused by
// `models inspect`, `models register` (the store is left as it was), and by predict / lrp before llama.cpp
// loads it: llama.cpp itself aborts the process on it (GGML_ASSERT, exit 134), shown in a child process.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { registerModel, ModelRefusedError } from '../../main/models/registry';
import { ModelSession } from '../../main/models/session';
import { openStore } from '../../main/store/index';
import { cliInProcess } from '../fixtures/cli-in-process';
import { tempDir } from '../gguf/helpers';
import { mutate } from '../gguf/mutate';

const REPO = resolve(__dirname, '../..');
const STORIES = resolve(REPO, '../shared/models/stories260K.gguf');
const tmp = tempDir('malformed-models-');
afterAll(() => tmp.cleanup());
const bad = mutate(STORIES).u32('llama.attention.head_count', 0).write(join(tmp.dir, 'heads0.gguf'));
const REASON = 'llama.attention.head_count = 0: must be at least 1';

describe('a malformed model is refused at every door', () => {
  it('(why) llama.cpp itself aborts the process that loads it', () => {
    const script = join(tmp.dir, 'load.mjs');
    writeFileSync(script, `import { getLlama, LlamaLogLevel } from ${JSON.stringify(pathToFileURL(require.resolve('node-llama-cpp')).href)};
      const l = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });
      await l.loadModel({ modelPath: ${JSON.stringify(bad)} });`);
    const r = spawnSync(process.execPath, [script], { cwd: REPO, encoding: 'utf8' });
    expect(r.signal === 'SIGABRT' || r.status === 134, `status ${r.status}, signal ${r.signal}`).toBe(true);
    expect(r.stderr).toContain('GGML_ASSERT');
  }, 60_000);

  it('models inspect: exit 1, the field and value named', async () => {
    const r = await cliInProcess(['models', 'inspect', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}: ${REASON}`);
  });

  it('models register: refused, nothing stored', async () => {
    const store = openStore(join(tmp.dir, 'reg.sqlite'));
    try {
      await expect(registerModel(store, bad)).rejects.toBeInstanceOf(ModelRefusedError);
      expect(store.models.list()).toEqual([]);
    } finally {
      store.close();
    }
    const r = await cliInProcess(['--db', join(tmp.dir, 'cli.sqlite'), 'models', 'register', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(REASON);
  });

  it('the model session refuses it before llama.cpp loads it', async () => {
    const session = new ModelSession({ gpu: false, threads: 1, contextSize: 64, idleReleaseMs: 0 });
    await expect(session.use(bad, async () => 'loaded')).rejects.toThrow(REASON);
    await session.release();
  });

  it('predict and lrp (real CLI processes) end with exit 1 and the reason, not an abort', () => {
    for (const args of [['predict', '--model', bad, '--text', 'a good film'], ['lrp', '--model', bad, '--tokens', '1,2,3']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', ...args], { cwd: REPO, encoding: 'utf8' });
      expect({ status: r.status, signal: r.signal }).toEqual({ status: 1, signal: null });
      expect(r.stderr).toContain(REASON);
    }
  }, 120_000);
});
