// Drives native/scripts/check.sh, which builds a C++ harness (tests/lrp/fixtures/*-check.cpp) against the engine's
// sources for one build of the kernels and runs it: x64-avx2 and x64-generic here, arm64 cross-compiled and run
// under qemu-user. A target this machine cannot run is skipped with its reason (printed), never silently.
import { execFile, spawnSync } from 'node:child_process';
import { arch } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { genericAddonPath } from '../../main/lrp/index';
import { repoRoot } from './models';

/** Time for a first build of a target's engine objects (minutes on 2 loaded cores, a cross compile included). */
export const COMPILE_MS = 900_000;

export type CheckTarget = 'x64-avx2' | 'x64-generic' | 'arm64';
const script = join(repoRoot, 'native/scripts/check.sh');
const run = promisify(execFile);

/** The portable addon's answer (native/src/platform.cpp): can this CPU run the AVX2 build? */
function cpuHasAvx2(): boolean {
  return (createRequire(import.meta.url)(genericAddonPath) as { cpuHasAvx2(): boolean }).cpuHasAvx2();
}

/** Why this machine cannot run a target's harness, or null when it can. */
export function skipReason(target: CheckTarget): string | null {
  if (arch() !== 'x64') return `the checks cross-build from linux-x64; this machine is ${process.platform}-${arch()}`;
  if (target === 'x64-avx2' && !cpuHasAvx2()) return 'this CPU lacks AVX2, FMA or F16C';
  if (target === 'arm64') {
    const p = spawnSync('bash', [script, '--probe', 'arm64'], { encoding: 'utf8' });
    if (p.status !== 0) return `ARM64 cross tools ${p.stdout.trim() || p.stderr.trim()}`;
  }
  return null;
}

/** Every target with its skip reason (printed when there is one). */
export function targetsHere(): { target: CheckTarget; skip: string | null }[] {
  return (['x64-avx2', 'x64-generic', 'arm64'] as const).map((target) => {
    const skip = skipReason(target);
    if (skip) console.log(`native checks: ${target} skipped: ${skip}`);
    return { target, skip };
  });
}

/**
 * Builds fixtures/<fixture> for the target and runs it with args; returns its stdout. Asynchronous: a synchronous
 * compile blocks the test worker's event loop, and under load vitest's worker RPC times out.
 */
export async function runCheck(target: CheckTarget, fixture: string, args: string[] = []): Promise<string> {
  const r = await run('bash', [script, target, join(repoRoot, 'tests/lrp/fixtures', fixture), ...args], {
    encoding: 'utf8', maxBuffer: 256 * 2 ** 20,
  });
  return r.stdout;
}
