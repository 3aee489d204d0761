import { defineConfig } from 'vitest/config';

// Tests run in forked processes: native addons (better-sqlite3, node-llama-cpp, our LRP addon)
// are safest outside worker threads. The machine has 2 cores.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
