import { defineConfig } from 'vitest/config';

// The Chromium tests (test/e2e), one file at a time and apart from `npm test`:
// a browser, a Vite build and a tarball install beside the crash test's
// kill-and-restart loop starved its servers on two cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
