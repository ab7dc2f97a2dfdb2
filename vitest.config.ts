import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Two projects, one placement rule: `*.test.ts` next to the code are unit tests (no engine); `*.int.test.ts` talk
// to the real engines of the stack, which `npm test` brings up and migrates first.
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for the libraries (Pothos, Yoga);
    // Vite would give our sources the ESM one, and two copies of graphql refuse each other's types. One copy.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            '{apps,packages}/*/src/**/*.test.ts',
            // The dashboard has no src/: its pure helpers (lib/format.ts).
            'apps/dashboard/lib/**/*.test.ts',
            'scripts/**/*.test.ts',
            'deploy/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            '{apps,packages}/*/src/**/*.int.test.ts',
            'scripts/**/*.int.test.ts',
            'e2e/pipeline/**/*.int.test.ts',
            'e2e/live/**/*.int.test.ts',
          ],
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
