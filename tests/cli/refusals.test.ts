// Misleading outcomes the CLI used to produce, each now a clear refusal with a non-zero exit (JSON under
// --json): a --db in a directory that does not exist (used to create it and an empty database), errors
// printed as plain text under --json, `lrp --target -1` read as the text "-1", `--gate` silently ignored
// with `--rule attn`, and an empty or white-space text classified.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../fixtures/cli-in-process';

const REPO = path.resolve(__dirname, '../..');
const STORIES = path.resolve(REPO, '../shared/models/stories260K.gguf');
const tmp = mkdtempSync(path.join(tmpdir(), 'rw-cli-refusals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--db / RW_DB in a directory that does not exist', () => {
  it('is refused, and nothing is created', async () => {
    const dir = path.join(tmp, 'no', 'such', 'dir');
    const r = await cliInProcess(['--db', path.join(dir, 'x.sqlite'), 'datasets']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`error: --db ${path.join(dir, 'x.sqlite')}: the directory ${dir} does not exist (create it first; only the default data directory is created automatically)`);
    expect(existsSync(path.join(tmp, 'no'))).toBe(false);
  });

  it('RW_DB alike', async () => {
    const file = path.join(tmp, 'missing', 'env.sqlite');
    const before = process.env.RW_DB;
    process.env.RW_DB = file;
    try {
      const r = await cliInProcess(['datasets']);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`error: RW_DB ${file}: the directory ${path.dirname(file)} does not exist`);
    } finally {
      if (before === undefined) delete process.env.RW_DB;
      else process.env.RW_DB = before;
    }
    expect(existsSync(path.dirname(file))).toBe(false);
  });

  it('an existing directory still works', async () => {
    const r = await cliInProcess(['--db', path.join(tmp, 'ok.sqlite'), '--json', 'datasets']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
  });
});

describe('--json: every error is one JSON line on stderr, stdout stays empty', () => {
  it('a usage error (exit 2), a failure (exit 1), and a malformed global flag', async () => {
    const usage = await cliInProcess(['--json', 'examples', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.out).toBe('');
    expect(JSON.parse(usage.err)).toEqual({ error: { code: 'usage', message: expect.stringMatching(/^expected a dataset id/) } });

    const failed = await cliInProcess(['--json', 'models', 'inspect', path.join(tmp, 'none.gguf')]);
    expect(failed.code).toBe(1);
    expect(failed.out).toBe('');
    expect(JSON.parse(failed.err)).toEqual({ error: { code: 'failed', message: `${path.join(tmp, 'none.gguf')}: file not found` } });

    const flag = await cliInProcess(['datasets', '--json', '--db']);
    expect(flag.code).toBe(2);
    expect(JSON.parse(flag.err)).toEqual({ error: { code: 'usage', message: 'option --db needs a file name' } });
  });

  it('the real process too', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', '--json', 'predict', '--model', STORIES, '--text', ' ', '--threads', '1'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'usage', message: '--text is empty (only white space): give the text to classify' } });
  }, 60_000);
});

describe('lrp refusals', () => {
  const lrp = (...args: string[]) => cliInProcess(['lrp', '--model', STORIES, '--tokens', '1,403,407', ...args]);

  it('--target -1 and --contrast -3 are refused as ids, not read as text', async () => {
    for (const [flag, v] of [['--target', '-1'], ['--contrast', '-3'], ['--target', '2.5']]) {
      const r = await lrp(flag, v);
      expect(r.code).toBe(2);
      expect(r.err.trim()).toBe(`error: ${flag} ${v}: a token id is a whole number from 0 (a text that reads as a number is not taken as text)`);
    }
  });

  it('--gate with --rule attn is refused', async () => {
    const r = await lrp('--rule', 'attn', '--gate', 'detach');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('error: --gate applies to --rule cp only (AttnLRP has no gate option)');
  });

  it('an empty --text is refused', async () => {
    for (const text of ['', '   \n\t']) {
      const r = await cliInProcess(['lrp', '--model', STORIES, '--text', text]);
      expect(r.code).toBe(2);
      expect(r.err.trim()).toBe('error: --text is empty (only white space): give the text to explain');
    }
  });
});

describe('predict refusals', () => {
  it('an empty or white-space --text, and an empty --claim, are refused before any model loads', async () => {
    for (const text of ['', '  ', '\n\t ']) {
      const r = await cliInProcess(['predict', '--model', STORIES, '--text', text]);
      expect(r.code).toBe(2);
      expect(r.err.trim()).toBe('error: --text is empty (only white space): give the text to classify');
    }
    const c = await cliInProcess(['predict', '--model', STORIES, '--task', 'claim', '--claim', ' ', '--text', 'evidence']);
    expect(c.code).toBe(2);
    expect(c.err.trim()).toBe('error: --claim is empty (only white space): give the claim to verify');
  });
});
