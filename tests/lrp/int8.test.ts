// The 8-bit products (`precision: 'int8'`, native/src/kernels_int8.cpp). Kernel level: fixtures/int8-check.cpp,
// compiled against the engine's kernels and the prebuilt libggml-base, checks W x and W^T g on 8 quantized types
// against float64 within a bound derived from the quantization of both operands, every instruction set of this CPU
// against the plain C++ path bit for bit, and 1/2/3 threads. Engine level: relevances against float32 and the
// CP-LRP conservation gap on generated models, bit identity across threads, and the option's validation (API, CLI).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLrpModel, type LrpRule } from '../../main/lrp/index';
import { modelDir, repoRoot, type TinyOptions } from './models';

const LIB_DIR = join(repoRoot, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const INCLUDE = join(repoRoot, 'native/vendor/llama.cpp/ggml/include');
const run = promisify(execFile);

interface Int8Case {
  type: string; C: number; R: number; T: number; exactRows: boolean;
  fwdBound: number; bwdBound: number; fwdRel: number; bwdRel: number;
  isaIdentical: boolean; threadsIdentical: boolean;
}
interface Int8Report { isas: string[]; best: string; cases: Int8Case[]; f16Taken: boolean }

let dir = '';
let report: Int8Report;
beforeAll(async () => {
  expect(existsSync(join(LIB_DIR, 'libggml-base.so')), `${LIB_DIR}/libggml-base.so`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'rw-int8-'));
  const exe = join(dir, 'int8-check');
  await run('g++', ['-O2', '-std=c++17', '-pthread', '-mavx2', '-mfma', '-mf16c', `-I${join(repoRoot, 'native/src')}`,
    `-I${INCLUDE}`, join(repoRoot, 'tests/lrp/fixtures/int8-check.cpp'), join(repoRoot, 'native/src/kernels_int8.cpp'),
    join(repoRoot, 'native/src/kernels.cpp'), `-L${LIB_DIR}`, '-l:libggml-base.so', `-Wl,-rpath,${LIB_DIR}`, '-o', exe]);
  report = JSON.parse((await run(exe, [], { encoding: 'utf8' })).stdout) as Int8Report;
}, 600_000);

const models = modelDir('lrp-int8-');
afterAll(() => {
  models.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('int8 kernels (fixtures/int8-check.cpp)', () => {
  it('cover the quantized types, exact and requantized rows, on uneven shapes', () => {
    expect([...new Set(report.cases.map((c) => c.type))].sort()).toEqual(['q2_K', 'q4_0', 'q4_1', 'q4_K', 'q5_0', 'q5_K', 'q6_K', 'q8_0']);
    expect(report.cases.some((c) => c.T === 1) && report.cases.some((c) => c.T > 128 && c.T % 8 !== 0)).toBe(true);
    expect(report.cases.some((c) => c.R % 32 !== 0)).toBe(true);
    // float weights are not taken: the engine keeps float32 for them
    expect(report.f16Taken).toBe(false);
  });

  it('W x and W^T g stay within the quantization bound of both operands (float64 reference)', () => {
    // the bound is the worst case (every rounding at half a step, all of one sign); measured: 0.04..0.39 of it
    for (const c of report.cases) {
      const where = `${c.type} C=${c.C} R=${c.R} T=${c.T}`;
      expect(c.fwdBound, where).toBeLessThanOrEqual(1);
      expect(c.bwdBound, where).toBeLessThanOrEqual(1);
      // and in plain terms: relative to the sum of |terms|, at most ~1 % (measured 0.09 %..1.3 %)
      expect(c.fwdRel, where).toBeLessThan(0.02);
      expect(c.bwdRel, where).toBeLessThan(0.02);
    }
  });

  it('every instruction set of this CPU gives the bits of the plain C++ path', () => {
    expect(report.isas).toContain('avx2');
    for (const c of report.cases) expect(c.isaIdentical, `${c.type} C=${c.C} R=${c.R} T=${c.T}`).toBe(true);
  });

  it('VNNI (dpbusd) equals maddubs bit for bit where the CPU has it', (ctx) => {
    const vnni = report.isas.filter((i) => i.includes('vnni'));
    if (vnni.length === 0) ctx.skip(); // this CPU has neither AVX-VNNI nor AVX512-VNNI: nothing to compare
    expect(report.best).toBe(vnni[0]);
    for (const c of report.cases) expect(c.isaIdentical).toBe(true);
  });

  it('1, 2 and 3 threads give the same bits', () => {
    for (const c of report.cases) expect(c.threadsIdentical, `${c.type} C=${c.C} R=${c.R} T=${c.T}`).toBe(true);
  });
});

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0);
const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
};
const tokens = Array.from({ length: 41 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % 500)));

describe('engine with precision int8', () => {
  const specs: [string, TinyOptions][] = [
    ['llama Q4_K', { arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 512, nLayer: 2 }],
    ['llama Q8_0', { arch: 'llama', weightType: 'Q8_0', nEmbd: 128, nFf: 256, nLayer: 2 }],
    ['llama Q6_K (requantized rows)', { arch: 'llama', weightType: 'Q6_K', nEmbd: 256, nFf: 512, nLayer: 2 }],
    ['llama+experts Q4_0', { arch: 'llama', weightType: 'Q4_0', nEmbd: 128, nFf: 128, experts: { count: 4, used: 2 } }],
    ['qwen3 Q5_0', { arch: 'qwen3', weightType: 'Q5_0', nEmbd: 128, nFf: 256 }],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: relevances near float32, CP-LRP still conserving, every rule set`, async () => {
      const m = openLrpModel(models.model(spec), { threads: 2 });
      try {
        for (const [rule, gate] of [['cp', 'half'], ['cp', 'detach'], ['attn', 'half']] as [LrpRule, 'half' | 'detach'][]) {
          const f = await m.attribute({ tokens, rule, gate });
          const q = await m.attribute({ tokens, rule, gate, precision: 'int8', target: f.target });
          const where = `${name} ${rule}/${gate}`;
          // the option reaches the engine: quantized products change the last bits
          expect(Array.from(q.relevance), where).not.toEqual(Array.from(f.relevance));
          // measured 2e-3..9e-3 on these models (41 tokens); the target for 7B is 1e-2
          expect(relL2(q.relevance, f.relevance), where).toBeLessThan(3e-2);
          expect(Math.abs(q.value - f.value), where).toBeLessThan(3e-2 * Math.abs(f.value));
          // CP-LRP conserves exactly in float32 (1e-4 in engine.test.ts); with int8 the forward's and the
          // backward's products are quantized differently, so the gap is of the products' error (measured <= 9e-3)
          if (rule === 'cp') expect(Math.abs(sum(q.relevance) - q.value), where).toBeLessThan(3e-2 * Math.abs(q.value));
        }
      } finally {
        m.close();
      }
    }, 120_000);
  }

  it('float weights (F16) keep float32 products: int8 gives the float32 bits', async () => {
    const m = openLrpModel(models.model({ arch: 'llama', weightType: 'F16' }), { threads: 2 });
    try {
      const f = await m.attribute({ tokens, rule: 'cp' });
      const q = await m.attribute({ tokens, rule: 'cp', precision: 'int8' });
      expect(Array.from(q.relevance)).toEqual(Array.from(f.relevance));
    } finally {
      m.close();
    }
  });

  it('bit-identical relevances for 1, 2 and 3 threads and between runs, saved or recomputed activations', async () => {
    const file = models.model({ arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 512, nLayer: 2 });
    const runs: number[][] = [];
    for (const threads of [1, 2, 3]) {
      const m = openLrpModel(file, { threads });
      try {
        for (const activations of ['save', 'save', 'recompute'] as const) {
          runs.push(Array.from((await m.attribute({ tokens, rule: 'attn', precision: 'int8', activations })).relevance));
        }
      } finally {
        m.close();
      }
    }
    for (const r of runs) expect(r).toEqual(runs[0]);
  }, 120_000);

  it('refuses an unknown precision before running, naming the value', async () => {
    const m = openLrpModel(models.model({ arch: 'llama', weightType: 'Q8_0' }), { threads: 1 });
    try {
      await expect(m.attribute({ tokens, precision: 'int4' as never })).rejects.toThrow("precision must be 'f32' or 'int8', got int4");
    } finally {
      m.close();
    }
  });
});

describe('cli lrp --precision', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'main/cli/index.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
  it('int8 explains with 8-bit products; a bad value is a usage error naming the flag and the value', () => {
    const file = models.model({ arch: 'llama', weightType: 'Q8_0', nEmbd: 128, nFf: 256 });
    const args = ['lrp', '--model', file, '--tokens', '1,403,407,261,378', '--json'];
    const f = cli(args), q = cli([...args, '--precision', 'int8']);
    expect(f.status, f.stderr).toBe(0);
    expect(q.status, q.stderr).toBe(0);
    const a = JSON.parse(f.stdout), b = JSON.parse(q.stdout);
    expect(b.relevance).not.toEqual(a.relevance);
    expect(relL2(b.relevance, a.relevance)).toBeLessThan(3e-2);
    const bad = cli([...args, '--precision', 'int4']);
    expect(bad.status).not.toBe(0);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'usage', message: '--precision must be f32 or int8, got "int4"' });
  }, 120_000);
});
