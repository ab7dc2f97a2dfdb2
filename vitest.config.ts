import { defineConfig } from 'vitest/config';

// Two projects, one placement rule: `*.test.ts` next to the code are unit tests (no engine); `*.int.test.ts` talk
// to the real engines of the stack, which `npm test` brings up and migrates first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,packages}/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{apps,packages}/*/src/**/*.int.test.ts', 'scripts/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Two cores: a few files at a time keeps engine latency, and so the tests, predictable.
          maxWorkers: 2,
        },
      },
    ],
  },
});
