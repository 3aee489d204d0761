// Builds tests/gguf/fixtures/ggml-ref.c against the prebuilt libggml-base.so of the installed
// node-llama-cpp and the ggml.h of the same llama.cpp release, so quantizer bytes can be compared with
// ggml's own output. Returns null (with the reason) when no C compiler or library is available.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const LIB_DIR = join(ROOT, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const INCLUDE = join(ROOT, 'native/vendor/llama.cpp/ggml/include');

export interface GgmlRef {
  quantize(type: number, rowLength: number, x: Float32Array): Uint8Array;
  dequantize(type: number, rowLength: number, bytes: Uint8Array): Float32Array;
}

export function buildGgmlRef(dir: string): GgmlRef | string {
  if (!existsSync(join(LIB_DIR, 'libggml-base.so'))) return `no ${LIB_DIR}/libggml-base.so (not linux-x64?)`;
  if (!existsSync(join(INCLUDE, 'ggml.h'))) return `no ${INCLUDE}/ggml.h (run native/scripts/llama-src.sh)`;
  const exe = join(dir, 'ggml-ref');
  try {
    execFileSync('cc', ['-O1', `-I${INCLUDE}`, join(ROOT, 'tests/gguf/fixtures/ggml-ref.c'), `-L${LIB_DIR}`,
      '-l:libggml-base.so', `-Wl,-rpath,${LIB_DIR}`, '-o', exe], { stdio: 'pipe' });
  } catch (e) {
    return `cannot compile the ggml reference harness: ${(e as Error).message.split('\n')[0]}`;
  }
  const run = (mode: string, type: number, rowLength: number, input: Uint8Array): Buffer => {
    writeFileSync(join(dir, 'in.bin'), input);
    execFileSync(exe, [mode, String(type), String(rowLength), join(dir, 'in.bin'), join(dir, 'out.bin')]);
    return readFileSync(join(dir, 'out.bin'));
  };
  return {
    quantize: (type, rowLength, x) => new Uint8Array(run('q', type, rowLength, new Uint8Array(x.buffer, x.byteOffset, x.byteLength))),
    dequantize: (type, rowLength, bytes) => {
      const b = run('d', type, rowLength, bytes);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    },
  };
}
