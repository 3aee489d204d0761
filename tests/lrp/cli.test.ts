// `npm run cli -- lrp ... --json` through the real CLI entry (tsx), on the trained stories260K model.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, stories } from './models';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'main/cli/index.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('cli lrp', () => {
  it('--text: BOS + tokens, most probable next token explained, relevances sum to the logit', () => {
    const r = cli(['lrp', '--model', stories, '--text', 'Once upon a time', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.tokens.map((t: { id: number }) => t.id)).toEqual([1, 403, 407, 261, 378]);
    expect(o.tokens[1].text.trim()).toBe('Once');
    expect(o.relevance).toHaveLength(5);
    expect(Math.abs(o.sum - o.logit)).toBeLessThan(1e-4 * Math.abs(o.logit));
    expect(o.sum).toBeCloseTo(o.relevance.reduce((a: number, b: number) => a + b, 0), 5);
    expect(typeof o.ms).toBe('number');
  });
  it('--tokens with a string target and contrast; bad target id is a one-line error', () => {
    const r = cli(['lrp', '--model', stories, '--tokens', '1,403,407', '--target', 'a', '--contrast', '378', '--gate', 'detach', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.target).toBe(412); // 'a' with no leading space (stories260K's ' a' is 261)
    expect(Math.abs(o.sum - o.logit)).toBeLessThan(1e-4 * Math.abs(o.logit));
    const bad = cli(['lrp', '--model', stories, '--tokens', '1,403', '--target', '9999', '--json']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('error: target token id 9999 is out of range (vocabulary size 512)');
  });
});
