import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Physical CPU cores of this machine. node-llama-cpp's default thread count ignores hyper-threading and
 * over-subscribes small machines (a 150-token evaluation got 100-300x slower with 4 threads on 2 cores),
 * so the session always passes an explicit count.
 *
 * Linux: distinct (physical id, core id) pairs in /proc/cpuinfo. Elsewhere: logical CPUs (no portable API).
 */
export function physicalCoreCount(cpuinfo?: string): number {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return Math.max(1, os.availableParallelism());
    }
  }
  const cores = new Set<string>();
  let physical = '0';
  for (const block of text.split(/\n\s*\n/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block);
    const core = /^core id\s*:\s*(\d+)/m.exec(block);
    if (phys) physical = phys[1];
    if (core) cores.add(`${physical}:${core[1]}`);
  }
  if (cores.size > 0) return cores.size;
  const processors = text.match(/^processor\s*:/gm)?.length ?? 0;
  return Math.max(1, processors || os.availableParallelism());
}
