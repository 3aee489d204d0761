// The engine on ARM64: engine.cpp + kernels.cpp cross-compiled for aarch64 (NEON lanes) with
// tests/lrp/fixtures/engine-check.cpp, linked to node-llama-cpp's linux-arm64 libggml-base and run under
// qemu-user (native/scripts/check.sh arm64), against this machine's addon on the same models and tokens:
// log-probabilities and relevances within the bounds the x86 engine is held to (parity.test.ts: 1e-4 on log p for
// float weights, here for every type since both decode the same weights exactly; engine.test.ts: 1e-4 of max |R|),
// CP-LRP conservation, and the same bits for 1 and 3 threads. The kernels alone (every weight type, decoders bit
// for bit) are in kernels.test.ts for arm64 too. Skipped, with the reason printed, only where the cross tools are
// missing (scripts/setup.sh installs them).
import { afterAll, describe, expect, it } from 'vitest';
import { lrpVersion, openLrpModel, type LrpGate, type LrpRule } from '../../main/lrp/index';
import { modelDir, stories, type TinyOptions } from './models';
import { COMPILE_MS, runCheck, skipReason } from './native-check';

interface ArmReport {
  kernels: string; ggml: string; logProbs: number[];
  ruleSets: { set: string; value: number; threadsIdentical: boolean; relevance: number[] }[];
}

const skip = skipReason('arm64');
if (skip) console.log(`arm64.test.ts skipped: ${skip}`);
const models = modelDir('lrp-arm64-');
afterAll(() => models.cleanup());

const toks = Array.from({ length: 24 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 97) % 500)));
// no contrast: a logit difference can be near 0 (stories260K: 6e-4), where a bound relative to it means nothing
const target = 17, contrast = -1;
const sets: [string, LrpRule, LrpGate][] = [['cp/half', 'cp', 'half'], ['cp/detach', 'cp', 'detach'], ['attn/half', 'attn', 'half']];
const specs: [string, TinyOptions | null][] = [
  ['stories260K (F32)', null],
  // one 256-block per row: NEON Q4_K decoding, and 3 threads' column ranges split inside a block
  ['llama Q4_K', { arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 512, nLayer: 1 }],
  // the fp16 GELU table (float <-> half conversions), post-norms and a sliding window
  ['gemma3 Q8_0', { arch: 'gemma3', weightType: 'Q8_0', slidingWindow: { window: 8, pattern: 2 } }],
  ['qwen3 F16', { arch: 'qwen3', weightType: 'F16' }],
];
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe.skipIf(skip !== null)('ARM64 engine under qemu = x86 engine', () => {
  for (const [name, spec] of specs) {
    it(`${name}: log-probabilities, relevances of every rule set, conservation, thread-count bits`, async () => {
      const file = spec ? models.model(spec, name.replace(/[^a-z0-9]+/gi, '_')) : stories;
      const arm = JSON.parse(await runCheck('arm64', 'engine-check.cpp', [file, toks.join(','), String(target), String(contrast)])) as ArmReport;
      expect(arm.kernels).toBe('neon');
      expect(arm.ggml).toBe(lrpVersion().ggml);
      const m = openLrpModel(file, { threads: 2 });
      try {
        const fw = await m.forward(toks);
        expect(arm.logProbs.length).toBe(fw.logProbs.length);
        const dlogp = maxAbs(arm.logProbs.map((x, i) => x - fw.logProbs[i]));
        const out: string[] = [`dlogp ${dlogp.toExponential(2)}`];
        expect(dlogp).toBeLessThan(1e-4);
        for (const [set, rule, gate] of sets) {
          const x86 = await m.attribute({ tokens: toks, target, rule, gate });
          const a = arm.ruleSets.find((r) => r.set === set)!;
          expect(a.threadsIdentical, set).toBe(true);
          const dR = maxAbs(a.relevance.map((x, i) => x - x86.relevance[i])) / maxAbs(x86.relevance);
          out.push(`${set} dR/max|R| ${dR.toExponential(2)}`);
          expect(dR, set).toBeLessThan(1e-4);
          expect(Math.abs(a.value - x86.value), set).toBeLessThan(1e-4 * Math.abs(x86.value));
          if (rule === 'cp') {
            const sum = a.relevance.reduce((s, x) => s + x, 0);
            expect(Math.abs(sum - a.value), `${set} conservation`).toBeLessThan(1e-4 * Math.abs(a.value));
          }
        }
        console.log(`arm64 ${name}: ${out.join(', ')}`);
      } finally {
        m.close();
      }
    }, COMPILE_MS);
  }
});
