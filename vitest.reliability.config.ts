import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: real servers in child processes, killed,
// flooded and drained. One file at a time: two suites loading the same two
// cores would make the soak's RSS and the shutdown's timing measure each
// other instead of the server.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
