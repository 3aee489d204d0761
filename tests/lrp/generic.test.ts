// The portable build (native/build/rw_lrp_generic.node: plain C++ kernels, what a CPU without AVX2 loads), forced
// with RW_LRP_KERNELS=generic, passes the same LRP tests as the AVX2 build: this file sets the variable and then
// runs the suites themselves (not copies): the float64 reference and CP-LRP conservation (engine.test.ts), parity
// with llama.cpp within the per-type bounds (parity.test.ts), and bit-identical relevances for 1, 2 and 3 threads
// (determinism.test.ts). The addon is loaded lazily (main/lrp/index.ts), after this assignment.
// gemma3's F32 cases: parity.test.ts gives them a bound of one fp16 GELU-table step on this build (its
// PORTABLE_GELU_TABLE_BOUND says why); every other case keeps the AVX2 build's bound.
import { describe, expect, it } from 'vitest';
import { LRP_KERNELS_ENV, lrpKernels } from '../../main/lrp/index';

process.env[LRP_KERNELS_ENV] = 'generic';

describe('forced portable build', () => {
  it('is the one loaded', () => {
    expect(lrpKernels()).toEqual({ kernels: process.arch === 'arm64' ? 'neon' : 'scalar', reason: `${LRP_KERNELS_ENV}=generic` });
  });
});

await import('./engine.test');
await import('./parity.test');
await import('./determinism.test');
