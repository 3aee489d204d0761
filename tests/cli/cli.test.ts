import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/index';

const REPO = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SHARED = path.resolve(REPO, '../shared');
const MSST = (l: string) => path.join(SHARED, 'data/msst', `Multilingual_Interpretability_${l}.xlsx`);
const FIX = (f: string) => path.join(REPO, 'tests/fixtures', f);

const tmp = mkdtempSync(path.join(tmpdir(), 'rw-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DB = path.join(tmp, 'work.sqlite');
/** A HOME/XDG_CONFIG_HOME of our own, so no test ever touches the real user's database. */
const HOME = path.join(tmp, 'home');

/** Runs the real CLI entry (main/cli/index.ts through tsx) in a child process. */
function cli(args: string[], env: Record<string, string> = {}) {
  const baseEnv: Record<string, string> = { ...(process.env as Record<string, string>), HOME, XDG_CONFIG_HOME: path.join(HOME, 'config'), ...env };
  delete baseEnv.RW_DB;
  delete baseEnv.RW_DEBUG;
  delete baseEnv.RW_DATA_DIR;
  if (env.RW_DB) baseEnv.RW_DB = env.RW_DB;
  if (env.RW_DEBUG) baseEnv.RW_DEBUG = env.RW_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', ...args], { cwd: REPO, env: baseEnv, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/**
 * The same entry point in this process (main() with captured output), for the many error-path
 * checks: spawning a process per check costs seconds on the shared machine.
 */
async function cliInProcess(args: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => ({ write: (s: string) => add(s) });
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('CLI against a real database file', () => {
  const imported: Record<string, number> = {};

  it('imports every format with --json and reports counts', () => {
    const cases: [string, string[], { examples: number; withRationale: number }][] = [
      ['msst-en', [MSST('EN'), '--format', 'msst'], { examples: 250, withRationale: 250 }],
      ['msst-dk', [MSST('DK'), '--format', 'msst'], { examples: 250, withRationale: 250 }],
      ['msst-it', [MSST('IT'), '--format=msst', '--name', 'mSST Italian'], { examples: 250, withRationale: 250 }],
      ['rafola', [FIX('rafola-mini.json'), '--format', 'rafola'], { examples: 3, withRationale: 2 }],
      // the third claim's evidence marks no word (an all-zero mask): not a rationale
      ['climate', [FIX('climate-fever-mini.jsonl'), '--format', 'climate-fever'], { examples: 3, withRationale: 2 }],
      ['csv', [FIX('sentiment-mini.csv'), '--format', 'csv'], { examples: 4, withRationale: 3 }],
      ['jsonl', [FIX('sentiment-mini.jsonl'), '--format', 'jsonl'], { examples: 4, withRationale: 3 }],
    ];
    for (const [key, args, expected] of cases) {
      // Global flags may come before or after the command.
      const r = key === 'csv' ? cli(['import', ...args, '--db', DB, '--json']) : cli(['--db', DB, '--json', 'import', ...args]);
      expect(r.stderr, key).toBe('');
      expect(r.code, key).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(Object.keys(out)).toEqual(['datasetId', 'examples', 'withRationale']);
      expect({ examples: out.examples, withRationale: out.withRationale }, key).toEqual(expected);
      imported[key] = out.datasetId;
    }
    expect(Object.values(imported)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('lists datasets and shows examples; text read back byte for byte', () => {
    const r = cli(['--db', DB, '--json', 'datasets']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { id: number; name: string; format: string; language: string | null; exampleCount: number }[];
    expect(list.map((d) => [d.name, d.format, d.language, d.exampleCount])).toEqual([
      ['Multilingual_Interpretability_EN', 'msst', 'en', 250],
      ['Multilingual_Interpretability_DK', 'msst', 'da', 250],
      ['mSST Italian', 'msst', 'it', 250],
      ['rafola-mini', 'rafola', 'en', 3],
      ['climate-fever-mini', 'climate-fever', 'en', 3],
      ['sentiment-mini', 'csv', null, 4],
      ['sentiment-mini', 'jsonl', null, 4],
    ]);
    const human = cli(['--db', DB, 'datasets']);
    expect(human.code).toBe(0);
    expect(lines(human.stdout)).toHaveLength(8);
    expect(human.stdout).toMatch(/^id\s+name\s+format/);

    const ex = cli(['--db', DB, '--json', 'examples', String(imported['msst-dk'])]);
    expect(ex.code).toBe(0);
    const examples = JSON.parse(ex.stdout) as { externalId: string; text: string; rationaleMask: number[]; words: { text: string }[] }[];
    expect(examples).toHaveLength(250);
    const e610 = examples.find((e) => e.externalId === '610')!;
    expect(Buffer.from(e610.text, 'utf8')).toEqual(Buffer.from('På grund af en unødvendig og klodset sidste scene efterlod `Swimfan` mig en meget dårlig følelse.', 'utf8'));
    expect(e610.words.filter((_, i) => e610.rationaleMask[i]).map((w) => w.text)).toEqual(['unødvendig', 'og', 'klodset', 'meget', 'dårlig', 'følelse.']);

    const limited = cli(['--db', DB, 'examples', String(imported['msst-dk']), '--limit', '2']);
    expect(limited.code).toBe(0);
    expect(lines(limited.stdout)).toEqual([
      'dataset 2 "Multilingual_Interpretability_DK": 250 examples; [brackets] mark human rationale words',
      '0\tda\t-\tDet er en [dejlig] [film] [med] [dejlige] [præstationer] af Buy og Accorsi.',
      '3\tda\t-\tEn [varm,] [sjov,] [engagerende] film.',
      '... 248 more (use --offset 2 or --limit N)',
    ]);
  });

  it('a bad file exits non-zero with one line naming file, row and field, and leaves the database unchanged', async () => {
    const before = sha(DB);
    const listBefore = cli(['--db', DB, '--json', 'datasets']).stdout;
    const bad = path.join(tmp, 'data.csv');
    writeFileSync(bad, 'id,text,label,rationale\na,Good film,positive,1 0\nb,One two three four five six,negative,0 1 1 0 0\n');
    const cases: [string[], RegExp][] = [
      [[bad, '--format', 'csv', '--language', 'en'], /^error: .*data\.csv: row 3, field "rationale": mask has 5 entries but the text has 6 words$/],
      [[path.join(tmp, 'nope.csv'), '--format', 'csv'], /^error: .*nope\.csv: file not found$/],
      [[FIX('sentiment-mini.csv'), '--format', 'msst', '--language', 'en'], /^error: .*sentiment-mini\.csv: not a readable \.xlsx \(zip\) file/],
      [[FIX('rafola-mini.json'), '--format', 'jsonl', '--language', 'en'], /^error: .*rafola-mini\.json: row 1: not valid JSON/],
    ];
    for (const [i, [args, re]] of cases.entries()) {
      const r = i === 0 ? cli(['--db', DB, 'import', ...args]) : await cliInProcess(['--db', DB, 'import', ...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(re);
    }
    const latin1 = path.join(tmp, 'latin1.jsonl');
    writeFileSync(latin1, Buffer.concat([Buffer.from('{"text": "K'), Buffer.from([0xf8]), Buffer.from('benhavn", "label": "p", "language": "da"}\n')]));
    const r = await cliInProcess(['--db', DB, 'import', latin1, '--format', 'jsonl']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${latin1}: not valid UTF-8 (first bad byte at offset 11); save the file as UTF-8\n`);
    expect(sha(DB)).toBe(before);
    expect(cli(['--db', DB, '--json', 'datasets']).stdout).toBe(listBefore);
  });

  it('usage errors exit 2 with one line; a missing dataset exits 1; RW_DEBUG=1 adds the stack', async () => {
    const checks: [string[], number, RegExp][] = [
      [['bogus'], 2, /^error: unknown command "bogus" \(commands: datasets, demo, examples, help, .*\bimport\b.*; try "help"\)$/],
      [['../index'], 2, /^error: unknown command "..\/index"/],
      [['import', FIX('sentiment-mini.csv')], 2, /^error: missing --format \(one of msst, rafola, climate-fever, csv, jsonl\)$/],
      [['import', FIX('sentiment-mini.csv'), '--format', 'xml'], 2, /^error: unknown format "xml"/],
      [['import', FIX('sentiment-mini.csv'), '--format', 'csv', '--lang', 'en'], 2, /^error: unknown option --lang \(expected --format, --language, --name, --labels\)$/],
      [['examples', '999'], 1, /^error: no dataset with id 999 in .*work\.sqlite \(see: datasets\)$/],
      [['examples', 'x'], 2, /^error: expected a dataset id/],
      [['examples', '1', '--limit', 'many'], 2, /^error: option --limit must be a whole number, got "many"$/],
      [['--db'], 2, /^error: option --db needs a file name$/],
    ];
    for (const [args, code, re] of checks) {
      const r = await cliInProcess(args[0] === '--db' ? args : ['--db', DB, ...args]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(re);
    }
    // The real process: exit code 2 and the single line.
    const spawned = cli(['--db', DB, 'bogus']);
    expect(spawned.code).toBe(2);
    expect(spawned.stdout).toBe('');
    expect(lines(spawned.stderr)).toHaveLength(1);
    const dbg = cli(['--db', DB, 'examples', '999'], { RW_DEBUG: '1' });
    expect(dbg.code).toBe(1);
    expect(lines(dbg.stderr)[0]).toMatch(/^error: no dataset with id 999/);
    expect(dbg.stderr).toMatch(/\n\s+at /);
  });

  it('uses the default database in the user data directory, or RW_DB', () => {
    const r = cli(['--json', 'import', FIX('sentiment-mini.jsonl'), '--format', 'jsonl']);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(HOME, 'config', 'Rationale Workbench', 'workbench.sqlite'))).toBe(true);
    const viaEnv = path.join(tmp, 'env.sqlite');
    expect(cli(['import', FIX('sentiment-mini.jsonl'), '--format', 'jsonl'], { RW_DB: viaEnv }).code).toBe(0);
    expect(JSON.parse(cli(['--json', 'datasets'], { RW_DB: viaEnv }).stdout)).toHaveLength(1);
  });

  it('help lists the command files; demo runs end to end', () => {
    const h = cli(['help']);
    expect(h.code).toBe(0);
    for (const c of ['datasets', 'demo', 'examples', 'help', 'import']) expect(h.stdout).toMatch(new RegExp(`^  ${c}\\s+\\S`, 'm'));
    const demoDb = path.join(tmp, 'demo.sqlite');
    const d = cli(['--db', demoDb, '--json', 'demo']);
    expect(d.code).toBe(0);
    const out = JSON.parse(d.stdout);
    expect(out).toMatchObject({ datasetIds: [1, 2, 3], examples: 12, withRationale: 12, db: demoDb });
    expect(Object.keys(out.byLanguage)).toEqual(['en', 'da', 'it']);
    // Words per sentence picked by hand in studies/demo: en 3,3,2,3 ; da 3,3,2,3 ; it 3,3,2,3.
    expect(out.byLanguage.da).toEqual({ examples: 4, labels: { positive: 2, negative: 2 }, meanRationaleWords: 2.75 });
    // Without --db the demo uses a temporary database and leaves the default one alone.
    const defaultDb = path.join(HOME, 'config', 'Rationale Workbench', 'workbench.sqlite');
    const before = existsSync(defaultDb) ? sha(defaultDb) : null;
    const plain = cli(['demo']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^Rationale Workbench demo: imported 12 review sentences \(12 with a human rationale\) into a temporary database/);
    expect(existsSync(defaultDb) ? sha(defaultDb) : null).toBe(before);
  });

  it('runs through the package.json script (npm run --silent cli)', () => {
    const r = spawnSync('npm', ['run', '--silent', 'cli', '--', '--db', DB, '--json', 'datasets'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, HOME } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(7);
  });
});
