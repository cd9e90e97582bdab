import { defineConfig } from 'vitest/config';

// The suites that run once per dialect: written once, run again on PostgreSQL
// when TEST_DATABASE_URL names a server (CI sets it), skipped with a word otherwise.
const BOTH_DIALECTS = ['test/http/**/*.test.ts', 'test/property/**/*.test.ts', 'test/crash/**/*.test.ts'];
const postgres = Boolean(process.env.TEST_DATABASE_URL);
if (!postgres) console.warn('PostgreSQL runs of the HTTP, property and crash suites skipped: TEST_DATABASE_URL is not set');

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores: more workers only adds contention between real servers.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          // The browser tests run on their own: `npm run test:browser` (vitest.browser.config.ts).
          exclude: ['test/reliability/**', 'test/e2e/**', 'node_modules/**'],
        },
      },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: BOTH_DIALECTS,
                setupFiles: ['test/setup/postgres-dialect.ts'],
                // After the sqlite project, not beside it: the two runs of the crash test
                // killing and restarting servers at once starved each other's restarts on two cores.
                sequence: { groupOrder: 1 },
              },
            },
          ]
        : []),
    ],
  },
});
