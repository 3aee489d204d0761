// The engine's dense kernels (native/src/kernels.cpp), compiled with a C++ harness (fixtures/kernels-check.cpp)
// against the same prebuilt libggml-base the addon links: W x and W^T g on every weight family against float64
// references from ggml's own dequantization, bit-identical results for 1/2/3 threads and for fused products,
// the AVX row decoders equal to ggml's to_float bit for bit, and the lane helpers (exp, sigmoid, dot, weighted
// row sums). The end-to-end parity with llama.cpp is in parity.test.ts; this pins each kernel on its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const LIB_DIR = join(ROOT, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const INCLUDE = join(ROOT, 'native/vendor/llama.cpp/ggml/include');

interface KernelCase {
  type: string; C: number; R: number; T: number;
  fwdRel: number; bwdRel: number; sparseBwdRel: number;
  threadsIdentical: boolean; fusedIdentical: boolean;
}
interface KernelReport {
  cases: KernelCase[];
  decodeRowsDiffering: Record<string, number>;
  expMaxUlp: number; expNanKept: boolean; sigmoidMaxAbsErr: number; mapTailSame: boolean;
  dotRel: number; weightedRowsRel: number; poolRethrows: boolean;
}

let dir = '';
let report: KernelReport;

// compiled and run asynchronously: a synchronous compile blocks the test worker's event loop, and under load
// (minutes on 2 busy cores) vitest's worker RPC times out ("Timeout calling onTaskUpdate")
const run = promisify(execFile);

beforeAll(async () => {
  expect(existsSync(join(LIB_DIR, 'libggml-base.so')), `${LIB_DIR}/libggml-base.so`).toBe(true);
  expect(existsSync(join(INCLUDE, 'ggml.h')), `${INCLUDE}/ggml.h (native/scripts/llama-src.sh)`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'rw-kernels-'));
  const exe = join(dir, 'kernels-check');
  await run('g++', ['-O2', '-std=c++17', '-pthread', '-mavx2', '-mfma', '-mf16c', `-I${join(ROOT, 'native/src')}`,
    `-I${INCLUDE}`, join(ROOT, 'tests/lrp/fixtures/kernels-check.cpp'), join(ROOT, 'native/src/kernels.cpp'),
    join(ROOT, 'native/src/kernels_int8.cpp'), // kernels.cpp hands products to it when a pool asks for int8
    `-L${LIB_DIR}`, '-l:libggml-base.so', `-Wl,-rpath,${LIB_DIR}`, '-o', exe]);
  report = JSON.parse((await run(exe, [], { encoding: 'utf8' })).stdout) as KernelReport;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('thread pool', () => {
  it('rethrows an exception from a worker or the calling thread (not a process abort) and stays usable', () => {
    expect(report.poolRethrows).toBe(true);
  });
});

describe('dense kernels against float64 references', () => {
  it('covers every weight family on uneven shapes (token blocks, row tiles and thread ranges cut mid-way)', () => {
    const types = new Set(report.cases.map((c) => c.type));
    expect([...types].sort()).toEqual(['bf16', 'f16', 'f32', 'q2_K', 'q4_0', 'q4_K', 'q5_1', 'q6_K', 'q8_0']);
    expect(report.cases.some((c) => c.T === 1)).toBe(true);
    expect(report.cases.some((c) => c.T > 128 && c.T % 16 !== 0)).toBe(true);
  });

  it('W x and W^T g (dense and sparse gradients) lose no more than float summation does', () => {
    // error relative to the sum of |terms|: float32 summation of <= 768 terms stays far below 1e-5 here
    for (const c of report.cases) {
      const where = `${c.type} C=${c.C} R=${c.R} T=${c.T}`;
      expect(c.fwdRel, where).toBeLessThan(2e-6);
      expect(c.bwdRel, where).toBeLessThan(2e-6);
      expect(c.sparseBwdRel, where).toBeLessThan(2e-6);
    }
  });

  it('gives the same bits for 1, 2 and 3 threads, and for a product fused with others of the same input', () => {
    for (const c of report.cases) {
      expect(c.threadsIdentical, `${c.type} C=${c.C} R=${c.R} T=${c.T}`).toBe(true);
      expect(c.fusedIdentical, `${c.type} C=${c.C} R=${c.R} T=${c.T}`).toBe(true);
    }
  });

  it('decodes rows exactly as ggml to_float (own AVX decoders for F16, Q8_0, Q4_K; ggml for the rest)', () => {
    expect(report.decodeRowsDiffering).toEqual({ f16: 0, q8_0: 0, q4_K: 0, bf16: 0, q5_K: 0 });
  });

  it('vector exp is within 1 ulp of expf and keeps NaN; sigmoid, dot and weighted sums match float64', () => {
    expect(report.expMaxUlp).toBeLessThanOrEqual(1);
    expect(report.expNanKept).toBe(true);
    expect(report.sigmoidMaxAbsErr).toBeLessThan(1e-7);
    expect(report.mapTailSame).toBe(true);
    expect(report.dotRel).toBeLessThan(1e-6);
    expect(report.weightedRowsRel).toBeLessThan(1e-6);
  });
});
