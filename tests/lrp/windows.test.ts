// Windows x64: every engine source, the Node binding included, compiles with Debian's mingw-w64 cross compiler
// for both flavours (native/scripts/compile-windows.sh: the platform layer's CreateFileMapping / GlobalMemoryStatusEx
// branch, no POSIX headers left in the engine). Compile-only: linking needs node.lib and a Windows ggml, which the
// Windows build (native/CMakeLists.txt through cmake-js) takes from the installed packages there.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { COMPILE_MS } from './native-check';
import { repoRoot } from './models';

const script = join(repoRoot, 'native/scripts/compile-windows.sh');
const which = spawnSync('bash', ['-c', 'command -v x86_64-w64-mingw32-g++-posix || command -v x86_64-w64-mingw32-g++'], { encoding: 'utf8' });
const skip = which.status === 0 ? null : 'x86_64-w64-mingw32-g++ missing (apt: mingw-w64)';
if (skip) console.log(`windows.test.ts skipped: ${skip}`);

describe.skipIf(skip !== null)('Windows x64 compile check (mingw-w64)', () => {
  it('compiles every native/src/*.cpp for the avx2 and the generic flavour, with no warnings', async () => {
    const r = await promisify(execFile)('bash', [script], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    expect(r.stdout).toMatch(/win-x64 avx2: compiled \d+ files/);
    expect(r.stdout).toMatch(/win-x64 generic: compiled \d+ files/);
    expect(r.stderr).not.toMatch(/warning|error/);
  }, COMPILE_MS);
});
