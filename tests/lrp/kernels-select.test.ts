// Which engine build a process loads (main/lrp/index.ts chooseLrpAddon): the AVX2 one only on a CPU with AVX2,
// FMA and F16C, the portable one otherwise or when RW_LRP_KERNELS=generic; never a refusal of the CPU.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLrpAddon, LRP_KERNELS_ENV } from '../../main/lrp/index';
import { repoRoot } from './models';

const both = { fast: true, generic: true };
const yes = () => true;
const no = () => false;

describe('choosing the engine build', () => {
  it('AVX2 build only when built and the CPU has AVX2/FMA/F16C; the portable one otherwise', () => {
    expect(chooseLrpAddon(undefined, both, yes).path).toBe('fast');
    expect(chooseLrpAddon('auto', both, yes).path).toBe('fast');
    expect(chooseLrpAddon(undefined, both, no)).toEqual({ path: 'generic', reason: 'this CPU lacks AVX2, FMA or F16C' });
    expect(chooseLrpAddon(undefined, { fast: false, generic: true }, yes)).toEqual({ path: 'generic', reason: 'no AVX2 build on this platform' });
  });

  it('RW_LRP_KERNELS=generic forces the portable build without asking the CPU; other values are refused by name', () => {
    expect(chooseLrpAddon('generic', both, () => { throw new Error('the CPU must not be asked'); })).toEqual({ path: 'generic', reason: `${LRP_KERNELS_ENV}=generic` });
    expect(() => chooseLrpAddon('avx512', both, yes)).toThrow(`${LRP_KERNELS_ENV}=avx512: expected 'generic' (the portable kernels) or 'auto'`);
    expect(() => chooseLrpAddon(undefined, { fast: true, generic: false }, yes)).toThrow(/rw_lrp_generic\.node is missing \(run `npm run build:native`\)/);
  });

  it('a process loads what the variable and the CPU say, and reports it', () => {
    const probe = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), '-e',
      "import('./main/lrp/index.ts').then((m) => console.log(JSON.stringify(m.lrpKernels())))"],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } }).trim().split('\n').pop()!) as { kernels: string; reason: string };
    const forced = probe({ [LRP_KERNELS_ENV]: 'generic' });
    expect(forced).toEqual({ kernels: process.arch === 'arm64' ? 'neon' : 'scalar', reason: `${LRP_KERNELS_ENV}=generic` });
    const auto = probe({ [LRP_KERNELS_ENV]: '' });
    const hasAvx2 = (createRequire(import.meta.url)(join(repoRoot, 'native/build/rw_lrp_generic.node')) as { cpuHasAvx2(): boolean }).cpuHasAvx2();
    expect(auto.kernels).toBe(hasAvx2 ? 'avx2' : forced.kernels);
  });
});
