import { defineConfig } from 'vitest/config';

// The reliability suites that run once per dialect: the crash test and the storm again on
// PostgreSQL when TEST_DATABASE_URL names a server (CI sets it), skipped with a word otherwise.
const BOTH_DIALECTS = ['test/reliability/crash.test.ts', 'test/reliability/idempotency-storm.test.ts'];
const postgres = Boolean(process.env.TEST_DATABASE_URL);
if (!postgres) console.warn('PostgreSQL runs of the crash test and the idempotency storm skipped: TEST_DATABASE_URL is not set');

// `npm run test:reliability`: real servers in child processes, killed,
// flooded and drained. One file at a time: two suites loading the same two
// cores would make the soak's RSS and the shutdown's timing measure each
// other instead of the server.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/reliability/**/*.test.ts'] } },
      ...(postgres
        ? [{ extends: true as const, test: { name: 'postgres', include: BOTH_DIALECTS, setupFiles: ['test/setup/postgres-dialect.ts'] } }]
        : []),
    ],
  },
});
