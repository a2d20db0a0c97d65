import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/simulation/**/*.test.ts', 'test/cli/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Real engines with real packets (test/engines): root, network namespaces, minutes per file.
        // After the other projects, not beside them: a probe waits a few seconds for an answer,
        // and two cores shared with the integration tests' control planes would stretch that.
        test: {
          name: 'engines',
          include: ['test/engines/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 3_600_000,
          hookTimeout: 2_700_000,
        },
      },
    ],
  },
});
