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

/**
 * The most threads any command or study may ask for: twice the logical CPUs llama.cpp can use
 * (os.availableParallelism()). More only over-subscribes the machine: `predict --threads 1000` once started
 * 1011 threads and never finished.
 */
export function maxThreads(): number {
  return Math.max(1, os.availableParallelism()) * 2;
}

/** Why `value` is not a usable thread count (null when it is): a whole number in 1..maxThreads(). */
export function threadsProblem(value: unknown): string | null {
  const max = maxThreads();
  const range = `a whole number from 1 to ${max} (twice this machine's ${max / 2} CPUs)`;
  if (typeof value !== 'number' || !Number.isInteger(value)) return `must be ${range}, got ${JSON.stringify(value)}`;
  if (value < 1 || value > max) return `must be ${range}, got ${value}`;
  return null;
}

/** A thread count from a command-line flag or a setting; throws an error naming `field` when out of range. */
export function checkThreads(value: number, field: string, make: (message: string) => Error = (m) => new RangeError(m)): number {
  const problem = threadsProblem(value);
  if (problem) throw make(`${field} ${problem}`);
  return value;
}
