// The engine's dense kernels (native/src/kernels.cpp), compiled with a C++ harness (fixtures/kernels-check.cpp)
// against the same prebuilt libggml-base the addon links: W x and W^T g on every weight family against float64
// references from ggml's own dequantization, bit-identical results for 1/2/3 threads and for fused products,
// the row decoders equal to ggml's to_float bit for bit, and the lane helpers (exp, sigmoid, dot, weighted
// row sums). The end-to-end parity with llama.cpp is in parity.test.ts; this pins each kernel on its own.
// Every check runs for each build of the kernels (native/scripts/check.sh): x86-64 AVX2, x86-64 portable (the
// build a CPU without AVX2 loads), and ARM64 NEON, cross-compiled and run under qemu-user.
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPILE_MS, runCheck, targetsHere } from './native-check';

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

for (const { target, skip } of targetsHere()) describe.skipIf(skip !== null)(`kernels: ${target}${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let report: KernelReport;

  beforeAll(async () => {
    report = JSON.parse(await runCheck(target, 'kernels-check.cpp')) as KernelReport;
  }, COMPILE_MS);

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

    it('decodes rows exactly as ggml to_float (own decoders for F16, Q8_0, Q4_K; ggml for the rest)', () => {
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
});
