import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration suites start real processes (redis-server, the broker); two workers fit two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
